/* A transport that reaches into the features: check-boundaries must refuse it. */
#include "link/vm_link.h"
#include "guest/guest_view.h"
#include <wlr/types/wlr_output.h>
