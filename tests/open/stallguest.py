#!/usr/bin/python3
"""Scripted guests for test-open-stall.sh (protocol v1, written from
protocol/README.md).

    stallguest.py target SOCKET QUITFILE
        HELLO, then never read again until QUITFILE exists.
    stallguest.py source SOCKET SECONDS
        open a 64 MiB file (the policy sends it to the target), streaming
        chunks while the host takes them for up to 10 s; then PING and wait
        up to SECONDS for the host's answers. Prints what came:
        "PONG after N s", "OPEN_RESULT after N s", or "... none".
"""
import os
import select
import socket
import struct
import sys
import time

HELLO, WELCOME, PING, PONG = 1, 2, 3, 4
OPEN_FILE_BEGIN, OPEN_FILE_CHUNK, OPEN_RESULT = 81, 82, 84


def msg(t, obj=0, body=b"", tail=b""):
    return struct.pack("<HHII", t, 0, 12 + len(body) + len(tail), obj) + body + tail


def connect(path, name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(msg(HELLO, 0, struct.pack("<III", 1, 1, 0), name.encode()))
    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(4))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            os.close(struct.unpack("<i", payload[:4])[0])
    assert struct.unpack("<H", data[:2])[0] == WELCOME
    s.setblocking(False)
    return s, data[struct.unpack("<I", data[4:8])[0]:]


def target(path, quit_file):
    s, _ = connect(path, "stall-target")
    print("welcomed", flush=True)
    while not os.path.exists(quit_file):
        time.sleep(0.2)


def source(path, seconds):
    s, inbuf = connect(path, "honest-source")
    size = 64 << 20
    # out: bytes not yet taken by the socket; whole messages only go in,
    # and nothing jumps the queue (a half-sent chunk is finished first)
    out = msg(OPEN_FILE_BEGIN, 0, struct.pack("<IIQ", 7, 0, size),
              b"big.bin\0application/octet-stream\0")
    chunk = msg(OPEN_FILE_CHUNK, 0, struct.pack("<I", 7), b"A" * 65536)
    queued, end = 0, time.time() + 10
    while time.time() < end:
        if len(out) < len(chunk) and queued < size:
            out += chunk
            queued += 65536
        try:
            out = out[s.send(out):]
        except BlockingIOError:
            select.select([], [s], [], 0.2)
        try:
            inbuf += s.recv(1 << 20)
        except BlockingIOError:
            pass
    print("queued %d file bytes, %d not yet taken" % (queued, len(out)), flush=True)
    out += msg(PING, 0, struct.pack("<I", 4242))
    t0 = time.time()
    got = {}
    while time.time() - t0 < seconds and len(got) < 2:
        select.select([s], [s] if out else [], [], 0.2)
        if out:
            try:
                out = out[s.send(out):]
            except (BlockingIOError, BrokenPipeError):
                pass
        try:
            data = s.recv(1 << 20)
            if not data:
                break
            inbuf += data
        except BlockingIOError:
            pass
        while len(inbuf) >= 12:
            t, _, n, _ = struct.unpack("<HHII", inbuf[:12])
            if len(inbuf) < n:
                break
            if t in (PONG, OPEN_RESULT) and t not in got:
                got[t] = time.time() - t0
            inbuf = inbuf[n:]
    for t, name in ((PONG, "PONG"), (OPEN_RESULT, "OPEN_RESULT")):
        print("%s %s" % (name, "after %.1f s" % got[t] if t in got else "none"), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "target":
        target(sys.argv[2], sys.argv[3])
    else:
        source(sys.argv[2], float(sys.argv[3]))
