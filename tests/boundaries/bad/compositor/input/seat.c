/* input/ calling guest windows directly. */
#include "input/seat.h"
#include "guest/guest_view.h"
#include "../server.h"
