#include <vitrail/common/mimetype.h>

#include <magic.h>
#include <string.h>
#include <vitrail/protocol.h>

bool mimetype_sniff_fd(int fd, char *out, size_t cap)
{
	magic_t magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
	bool ok = false;

	if (magic == NULL) {
		return false;
	}
	if (magic_load(magic, NULL) == 0) {
		const char *type = magic_descriptor(magic, fd);
		size_t len = type != NULL ? strlen(type) : 0;
		if (len > 0 && len < cap && vtp_valid_mime_type(type, len)) {
			memcpy(out, type, len + 1);
			ok = true;
		}
	}
	magic_close(magic);
	return ok;
}
