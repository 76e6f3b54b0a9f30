/* a service building JSON, knowing guest windows, and a private rule copy */
#include <json-c/json.h>
#include "guest/guest_view.h"
#include "view.h"
static bool valid_desktop_id(const char *id)
{
	return id != 0;
}
