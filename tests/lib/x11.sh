# Sourced first by the tests that run X11 apps (before agent.sh).
# wlroots' Xwayland refuses a /tmp/.X11-unix owned by neither root nor the
# user (some sandboxes leave one owned by nobody): the test then runs in a
# mount namespace of its own with a fresh one (needs root, as such a
# sandbox gives).
x11_dir_owner=$(stat -c %u /tmp/.X11-unix 2>/dev/null || echo 0)
if [ -z "${VT_X11_NS:-}" ] && [ "$x11_dir_owner" != 0 ] && [ "$x11_dir_owner" != "$(id -u)" ]; then
	exec env VT_X11_NS=1 unshare -m sh -c \
		'mount -t tmpfs -o mode=1777 tmpfs /tmp/.X11-unix && exec "$0" "$@"' "$0" "$@"
fi
