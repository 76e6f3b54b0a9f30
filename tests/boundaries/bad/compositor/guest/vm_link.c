/* A transport that reaches into the features: check-boundaries must refuse it. */
#include "guest/vm_link.h"
#include "services/open.h"
#include <wlr/types/wlr_output.h>
