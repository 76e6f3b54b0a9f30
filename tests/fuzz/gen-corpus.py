#!/usr/bin/python3
"""Writes the seed corpus of fuzz-decoder into corpus/decoder/.

Each seed is one mode byte (how the harness cuts the stream into chunks,
0 = all at once) followed by a byte stream of vitrail messages: one valid
message of every type, a few realistic sequences, and some near-misses.
Run once from anywhere; the output is committed.
"""
import hashlib
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "decoder")
POOL = 16 * 1024 * 1024


def msg(mtype, obj=0, body=b"", tail=b"", flags=0, size=None):
    if size is None:
        size = 12 + len(body) + len(tail)
    return struct.pack("<HHII", mtype, flags, size, obj) + body + tail


def u32(*v):
    return struct.pack("<%dI" % len(v), *v)


def i32(*v):
    return struct.pack("<%di" % len(v), *v)


ARGB, XRGB = 0x34325241, 0x34325258

valid = {
    "hello": msg(1, 0, u32(1, 1, 0), b"vitrail-agent 0.1"),
    "welcome": msg(2, 0, u32(1, 1) + struct.pack("<Q", POOL), b"work"),
    "ping": msg(3, 0, u32(7)),
    "pong": msg(4, 0, u32(7)),
    "error": msg(5, 0, u32(1), b"bad message"),
    "output-info": msg(6, 0, u32(1920, 1080, 1, 60000)),
    "window-create-toplevel": msg(16, 1, u32(1, 0) + i32(0, 0) + u32(0, 0, 0, 0) + i32(0, 0) + u32(640, 480)),
    "window-create-popup": msg(16, 2, u32(2, 1) + i32(10, 20) + u32(30, 40, 6, 8) + i32(0, 4) + u32(200, 100)),
    "window-destroy": msg(17, 1),
    "set-title": msg(18, 1, b"", "Terminal \u2014 ~/src \U0001F600".encode()),
    "set-app-id": msg(19, 1, b"", b"org.codeberg.dnkl.foot"),
    "set-size-hints": msg(20, 1, u32(100, 50, 0, 800)),
    "configure": msg(21, 1, u32(3, 800, 600, 3)),
    "ack-configure": msg(22, 1, u32(3)),
    "close": msg(23, 1),
    "move-request": msg(24, 1),
    "resize-request": msg(25, 1, u32(2 | 8)),
    "set-maximized": msg(26, 1, u32(1)),
    "set-fullscreen": msg(27, 1, u32(0)),
    "popup-done": msg(28, 2),
    "attach": msg(32, 1, struct.pack("<Q", 4096) + u32(1, 640, 480, 2560, XRGB, 1)),
    # version 4: scaled buffers, WINDOW_SCALE
    "attach-scale-2": msg(32, 1, struct.pack("<Q", 4096) + u32(1, 1280, 960, 5120, ARGB, 2)),
    "window-scale": msg(29, 1, u32(2)),
    "damage": msg(33, 1, b"", i32(0, 0, 640, 480, 10, 10, 1, 1)),
    "commit": msg(34, 1, u32(1)),
    "frame-done": msg(35, 1, struct.pack("<Q", 123456789) + u32(16666666, 1)),
    "release": msg(36, 1, u32(1)),
    "set-cursor": msg(37, 1, struct.pack("<Q", 0) + u32(24, 24, 96) + i32(3, 3) + u32(1)),
    "set-cursor-hide": msg(37, 1, bytes(32)),
    "pointer-enter": msg(48, 1, u32(1) + i32(2560, 2560)),
    "pointer-leave": msg(49, 1, u32(2)),
    "pointer-motion": msg(50, 1, u32(100) + i32(256, 512)),
    "pointer-button": msg(51, 1, u32(3, 101, 0x110, 1)),
    "pointer-axis": msg(52, 1, u32(102, 0) + i32(2560, 1) + u32(0)),
    "keymap": msg(53, 0, u32(1), b'xkb_keymap {\n\txkb_keycodes "evdev" { };\n};\n'),
    "keyboard-enter": msg(54, 1, u32(4)),
    "keyboard-leave": msg(55, 1, u32(5)),
    "key": msg(56, 1, u32(6, 103, 30, 1)),
    "modifiers": msg(57, 1, u32(7, 1, 0, 2, 0)),
    "repeat-info": msg(58, 0, i32(25, 600)),
    "clipboard-request": msg(64, 0, u32(8, 1 << 20)),
    "clipboard-data": msg(65, 0, u32(8, 1), b"copied text\nline two"),
    "clipboard-data-empty": msg(65, 0, u32(8, 3)),
    "clipboard-set": msg(66, 0, u32(9, 1), b"pasted"),
    "open-url": msg(80, 0, u32(11), b"https://example.org/path?q=1"),
    "open-file-begin": msg(81, 0, u32(12, 0) + struct.pack("<Q", 5), b"notes.txt\0text/plain\0"),
    "open-file-chunk": msg(82, 0, u32(12), b"hello"),
    "open-file-end": msg(83, 0, u32(12) + hashlib.sha256(b"hello").digest()),
    "open-result": msg(84, 0, u32(12, 0), b"opened in personal"),
    "deliver-url": msg(85, 0, u32(13), b"https://example.org/\0work"),
    "deliver-file-begin": msg(86, 0, u32(14, 0) + struct.pack("<Q", 5), b"notes.txt\0text/plain\0work"),
    "deliver-file-chunk": msg(87, 0, u32(14), b"hello"),
    "deliver-file-end": msg(88, 0, u32(14) + hashlib.sha256(b"hello").digest()),
    "deliver-result": msg(89, 0, u32(14, 1), b"denied"),
    "apps-request": msg(96, 0, u32(21)),
    "apps-changed": msg(97),
    "app-list-begin": msg(98, 0, u32(21, 1)),
    "app-info": msg(99, 0, u32(0), b"org.gnome.Terminal.desktop\0Terminal\0\0Use the command line\0GTK;System;\0\0"),
    "app-icon": msg(100, 0, u32(0, 48), bytes(range(256)) * 36),
    "app-list-end": msg(101, 0, u32(21)),
    "launch-app": msg(102, 0, u32(31), b"firefox-esr.desktop"),
    "run": msg(103, 0, u32(32), b"sh\0-c\0echo hi\0"),
    "run-result": msg(104, 0, u32(32, 0) + i32(0)),
    # version 2: notifications (the harness decodes at VTP_VERSION_MAX)
    "notify": msg(112, 0, u32(9, 1) + i32(5000) + struct.pack("<6H", 5, 4, 4, 0, 2, 1),
                  b"Hellobodymake" + bytes(range(8))),
    "notify-close": msg(113, 0, u32(9)),
    "notify-closed": msg(114, 0, u32(9, 2)),
    "notify-action": msg(115, 0, u32(9)),
    # version 3: idle inhibitors
    "idle-inhibit": msg(120, 1, u32(1)),
}

invalid = {
    "bad-size-small": msg(3, 0, u32(1), size=8),
    "bad-size-huge": msg(3, 0, u32(1), size=(1 << 20) + 1),
    "bad-flags": msg(3, 0, u32(1), flags=1),
    "bad-object": msg(34, 0, u32(1)),
    "bad-title-utf8": msg(18, 1, b"", b"\xc0\xaf\xed\xa0\x80"),
    "bad-title-control": msg(18, 1, b"", b"\x1b[31mred"),
    "bad-attach-pool": msg(32, 1, struct.pack("<Q", POOL - 64) + u32(1, 64, 64, 256, ARGB, 1)),
    "bad-attach-stride": msg(32, 1, struct.pack("<Q", 0) + u32(1, 64, 64, 252, ARGB, 1)),
    "bad-attach-scale": msg(32, 1, struct.pack("<Q", 0) + u32(1, 64, 64, 256, ARGB, 5)),
    "bad-attach-scale-odd": msg(32, 1, struct.pack("<Q", 0) + u32(1, 64, 63, 256, ARGB, 2)),
    "bad-window-scale": msg(29, 1, u32(0)),
    "bad-damage": msg(33, 1, b"", i32(0x7FFFFFFF, 0, 1, 1)),
    "bad-app-id": msg(99, 0, u32(0), b"../evil.desktop\0N\0\0\0\0\0"),
    "bad-run": msg(103, 0, u32(32), b"\0"),
    "bad-notify-lengths": msg(112, 0, u32(1, 1) + i32(-1) + struct.pack("<6H", 9, 0, 0, 0, 0, 0), b"abc"),
    "bad-notify-icon": msg(112, 0, u32(1, 1) + i32(-1) + struct.pack("<6H", 0, 0, 0, 0, 65, 1), bytes(260)),
    "bad-notify-closed-reason": msg(114, 0, u32(1, 0)),
    "bad-idle-inhibit": msg(120, 1, u32(2)),
    "bad-file-name": msg(81, 0, u32(12, 0) + struct.pack("<Q", 5), b"a/b\0text/plain\0"),
}

sequences = {
    "seq-guest-window": [valid[k] for k in ("hello", "window-create-toplevel", "set-title", "set-app-id",
                                            "attach", "damage", "commit", "set-cursor", "pong")],
    "seq-host-input": [valid[k] for k in ("welcome", "output-info", "keymap", "repeat-info", "configure",
                                          "keyboard-enter", "modifiers", "key", "pointer-enter",
                                          "pointer-motion", "pointer-button", "frame-done", "release",
                                          "window-scale")],
    "seq-clipboard": [valid[k] for k in ("clipboard-request", "clipboard-data", "clipboard-set")],
    "seq-open-file": [valid[k] for k in ("open-file-begin", "open-file-chunk", "open-file-end", "open-result")],
    "seq-apps": [valid[k] for k in ("apps-changed", "apps-request", "app-list-begin", "app-info",
                                    "app-list-end", "launch-app", "run", "run-result")],
    "seq-valid-then-bad": [valid["hello"], valid["commit"], invalid["bad-flags"], valid["ping"]],
    "seq-notify": [valid[k] for k in ("notify", "notify-closed", "notify", "notify-action", "notify-close")],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.unlink(os.path.join(OUT, f))
    total = 0
    for name, data in valid.items():
        path = os.path.join(OUT, "valid-" + name)
        with open(path, "wb") as f:
            f.write(b"\0" + data)
        total += 1
    for name, data in invalid.items():
        with open(os.path.join(OUT, "invalid-" + name[4:]), "wb") as f:
            f.write(b"\0" + data)
        total += 1
    for i, (name, parts) in enumerate(sequences.items()):
        # three chunkings each: whole, byte-sized, irregular
        for mode in (0, 1, 7 + 40 * i):
            with open(os.path.join(OUT, "%s-mode%d" % (name, mode)), "wb") as f:
                f.write(bytes([mode]) + b"".join(parts))
            total += 1
    print("wrote %d seeds to %s" % (total, OUT))


if __name__ == "__main__":
    main()
