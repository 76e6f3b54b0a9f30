#include <vitrail/common/mimetype.h>

#include <magic.h>
#include <unistd.h>
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

const char *mimetype_guess(const char *name, int fd, char *out, size_t cap)
{
	const char *type = mimetype_from_name(name);
	if (strcmp(type, "application/octet-stream") == 0 && mimetype_sniff_fd(fd, out, cap)) {
		type = out;
	}
	return lseek(fd, 0, SEEK_SET) == 0 ? type : NULL;
}
