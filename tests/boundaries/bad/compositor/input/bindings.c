/* input/ calling a service directly */
#include "input/seat.h"
#include "services/clipboard.h"
