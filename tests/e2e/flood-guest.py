#!/usr/bin/python3
"""A hostile guest for test-hostile-flood.sh: maps one 300x200 window, then
sends valid SET_TITLE, SET_APP_ID and SET_CURSOR messages as fast as the
socket takes them until the file STOP exists. Then it sends the title
"flood-end", prints "sent N" and waits for the file QUIT, answering PINGs
and reading everything the host sends meanwhile.

usage: flood-guest.py SOCKET STOP QUIT
"""
import os
import select
import socket
import struct
import sys

HELLO, WELCOME, PING, PONG = 1, 2, 3, 4
WINDOW_CREATE, SET_TITLE, SET_APP_ID = 16, 18, 19
ATTACH, DAMAGE, COMMIT, SET_CURSOR = 32, 33, 34, 37
XRGB8888 = 0x34325258
W, H = 300, 200


def msg(mtype, obj, body=b"", tail=b""):
    return struct.pack("<HHII", mtype, 0, 12 + len(body) + len(tail), obj) + body + tail


def main():
    path, stop, quit_file = sys.argv[1:4]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(msg(HELLO, 0, struct.pack("<III", 1, 1, 0), b"flood"))
    data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(4))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            os.close(struct.unpack("<i", payload[:4])[0])
    if len(data) < 12 or struct.unpack("<H", data[:2])[0] != WELCOME:
        print("no welcome", flush=True)
        return 1
    s.sendall(msg(WINDOW_CREATE, 1, struct.pack("<IIiiIIIIiiII", 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, W, H)))
    s.sendall(msg(ATTACH, 1, struct.pack("<QIIIIII", 0, 1, W, H, W * 4, XRGB8888, 0)))
    s.sendall(msg(DAMAGE, 1, b"", struct.pack("<iiii", 0, 0, W, H)))
    s.sendall(msg(COMMIT, 1, struct.pack("<I", 1)))
    s.setblocking(False)

    inbuf = b""

    def drain():
        nonlocal inbuf
        while True:
            try:
                d = s.recv(1 << 20)
            except BlockingIOError:
                break
            if not d:
                print("disconnected", flush=True)
                sys.exit(1)
            inbuf += d
        out = b""
        while len(inbuf) >= 12:
            mtype, _, size, _ = struct.unpack("<HHII", inbuf[:12])
            if len(inbuf) < size:
                break
            if mtype == PING:
                out += msg(PONG, 0, inbuf[12:16])
            elif mtype == 5:
                print("error", inbuf[16:size].decode(errors="replace"), flush=True)
            inbuf = inbuf[size:]
        if out:
            s.setblocking(True)
            s.sendall(out)
            s.setblocking(False)

    # 64x64 cursors (the largest allowed) 1 MiB into the pool, and titles
    # and app ids of the largest size, two alternating values each
    one = (msg(SET_TITLE, 1, b"", b"A" * 1024) +
           msg(SET_CURSOR, 1, struct.pack("<QIIIiiI", 1 << 20, 64, 64, 256, 0, 0, 0)) +
           msg(SET_APP_ID, 1, b"", b"a" * 256) +
           msg(SET_TITLE, 1, b"", b"B" * 1024) +
           msg(SET_CURSOR, 1, struct.pack("<QIIIiiI", (1 << 20) + 65536, 64, 64, 256, 63, 63, 0)) +
           msg(SET_APP_ID, 1, b"", b"b" * 256))
    chunk = one * 64
    pending = b""
    sent = 0
    print("flooding", flush=True)
    while not os.path.exists(stop):
        if not pending:
            pending = chunk
        try:
            k = s.send(pending)
            pending = pending[k:]
            sent += k
        except BlockingIOError:
            select.select([s], [s], [], 0.5)
        drain()
    s.setblocking(True)
    s.sendall(pending + msg(SET_TITLE, 1, b"", b"flood-end"))
    s.setblocking(False)
    print("sent %d messages" % (sent * 6 // len(one)), flush=True)
    while not os.path.exists(quit_file):
        select.select([s], [], [], 0.2)
        drain()
    return 0


if __name__ == "__main__":
    sys.exit(main())
