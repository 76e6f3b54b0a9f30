#!/usr/bin/python3
"""A stand-in for vitrail's control socket: answers vitrailctl's requests
with canned replies and logs each request (one JSON line) to a file.

usage: fake-ctl-server.py SOCKET LOG
"""
import json
import os
import socket
import sys

WINDOWS = [
    {"id": 3, "vm": "work", "title": "Inbox \u2014 mail", "app_id": "mail", "x": 32, "y": 60,
     "width": 640, "height": 480, "focused": True, "label": "#3465a4"},
    {"id": 7, "vm": None, "title": "evil\x1b[31mtitle", "app_id": "foot", "x": 64, "y": 92,
     "width": 300, "height": 200, "focused": False, "label": "#2e3436"},
]
VMS = [
    {"name": "work", "label": "#3465a4", "connected": True, "windows": 1},
    {"name": "personal", "label": "#73d216", "connected": False, "windows": 0},
]


def reply_for(req):
    cmd = req.get("command")
    if cmd == "windows":
        return {"ok": True, "windows": WINDOWS}
    if cmd == "vms":
        return {"ok": True, "vms": VMS}
    if cmd in ("focus", "close"):
        if req.get("id") == 3:
            return {"ok": True}
        return {"ok": False, "error": "no window %s" % req.get("id")}
    if cmd == "exit":
        return {"ok": True}
    if cmd == "version":
        return {"ok": True, "version": "9.8.7"}
    return {"ok": False, "error": "unknown command"}


def main():
    path, log_path = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    srv.settimeout(60)
    with open(log_path, "a") as log:
        while True:
            conn, _ = srv.accept()
            conn.settimeout(10)
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            log.write(data.decode("utf-8", "replace").rstrip("\n") + "\n")
            log.flush()
            req = json.loads(data)
            reply = reply_for(req)
            conn.sendall(json.dumps(reply).encode() + b"\n")
            conn.close()
            if req.get("command") == "exit":
                break
    os.unlink(path)


if __name__ == "__main__":
    main()
