print("kontor-bridge")
