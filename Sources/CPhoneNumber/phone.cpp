#include "kontor_phone.h"
int kontor_phone_placeholder(void) { return 0; }
