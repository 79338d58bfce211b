print("kontord")
