#!/usr/bin/python3
"""Print fake-guest commands that send a file as OPEN_FILE_* messages.

    openmsg.py ID NAME MIME PATH [--size N] [--bad-sha] [--no-end] [--begin-only]

NAME is a Python string literal body (escapes such as \\x01 and \\u202e
work; @long:N:EXT is N bytes of 'x' then EXT; @hex:HEX is raw bytes). The messages use
fake-guest's "msg TYPE OBJECT HEX" command: any bytes, correct headers.
"""
import hashlib
import struct
import sys

OPEN_FILE_BEGIN, OPEN_FILE_CHUNK, OPEN_FILE_END = 81, 82, 83
CHUNK = 30000  # hex: fake-guest reads lines of up to 70000 bytes


def main():
    args = sys.argv[1:]
    bad_sha = "--bad-sha" in args
    no_end = "--no-end" in args
    begin_only = "--begin-only" in args
    size = None
    if "--size" in args:
        i = args.index("--size")
        size = int(args[i + 1])
        del args[i:i + 2]
    args = [a for a in args if a not in ("--bad-sha", "--no-end", "--begin-only")]
    rid, name, mime, path = int(args[0]), args[1], args[2], args[3]
    if name.startswith("@hex:"):
        raw = bytes.fromhex(name[5:])
    elif name.startswith("@long:"):
        _, n, ext = name.split(":", 2)
        raw = b"x" * int(n) + ext.encode()
    else:
        raw = name.encode("latin-1", "backslashreplace").decode("unicode_escape").encode(
            "utf-8", "surrogatepass")
    data = open(path, "rb").read()
    if size is None:
        size = len(data)
    tail = raw + b"\0" + mime.encode() + b"\0"
    print("msg %d 0 %s" % (OPEN_FILE_BEGIN, (struct.pack("<IIQ", rid, 0, size) + tail).hex()))
    if begin_only:
        return
    for off in range(0, len(data), CHUNK):
        body = struct.pack("<I", rid) + data[off:off + CHUNK]
        print("msg %d 0 %s" % (OPEN_FILE_CHUNK, body.hex()))
    if not no_end:
        digest = hashlib.sha256(data).digest()
        if bad_sha:
            digest = bytes([digest[0] ^ 1]) + digest[1:]
        print("msg %d 0 %s" % (OPEN_FILE_END, (struct.pack("<I", rid) + digest).hex()))


main()
