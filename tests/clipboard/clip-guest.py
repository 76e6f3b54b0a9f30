#!/usr/bin/python3
"""A scripted guest for the host's clipboard checks: it speaks the vitrail
protocol on a VM's socket, maps one window (so the user can focus it), and
answers CLIPBOARD_REQUEST the way MODE says:

  clip-guest.py SOCKET MODE [HEXTEXT]

  unsolicited   send a CLIPBOARD_DATA nobody asked for (right after WELCOME)
  answer        answer with HEXTEXT, cut into 3 chunks (the cuts may split
                UTF-8 sequences), the last one flagged LAST
  wrong-serial  answer with another serial than the request's
  oversize      answer with one byte more than the request's max_bytes
  silent        never answer

Every CLIPBOARD_SET is reassembled and printed as "set BYTES HEX" when its
last chunk arrives; a request is printed as "request SERIAL MAX_BYTES".
Prints "mapped" once the window is up and "disconnected" when the host
closes the connection (then exits 0). Other output: "error CODE TEXT".
"""
import mmap
import os
import select
import socket
import struct
import sys
import time

HELLO, WELCOME, PING, PONG, ERROR = 1, 2, 3, 4, 5
WINDOW_CREATE, CONFIGURE, ACK_CONFIGURE = 16, 21, 22
ATTACH, DAMAGE, COMMIT, FRAME_DONE = 32, 33, 34, 35
CLIPBOARD_REQUEST, CLIPBOARD_DATA, CLIPBOARD_SET = 64, 65, 66
LAST, EMPTY = 1, 2
MAX_CHUNK = 64 * 1024
XRGB8888 = 0x34325258
WIDTH, HEIGHT = 160, 100
TIMEOUT = float(os.environ.get('E2E_TIMEOUT', '20')) * 3


def out(*words):
    print(*words, flush=True)


def msg(kind, obj, body=b'', tail=b''):
    return struct.pack('<HHII', kind, 0, 12 + len(body) + len(tail), obj) + body + tail


def chunk(serial, flags, data=b''):
    return msg(CLIPBOARD_DATA, 0, struct.pack('<II', serial, flags), data)


class Guest:
    def __init__(self, path, mode, text):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.mode = mode
        self.text = text
        self.buf = b''
        self.fds = []
        self.pool = None
        self.set_data = {}

    def send(self, data):
        self.sock.sendall(data)

    def read_some(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            out('timeout')
            sys.exit(1)
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            return True
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, 1 << 20, 4)
        except ConnectionResetError:
            data, fds = b'', []
        self.fds += fds
        if not data:
            return False
        self.buf += data
        return True

    def messages(self, deadline):
        while True:
            while len(self.buf) >= 12:
                kind, _, size, obj = struct.unpack_from('<HHII', self.buf)
                if len(self.buf) < size:
                    break
                data, self.buf = self.buf[12:size], self.buf[size:]
                yield kind, obj, data
            if not self.read_some(deadline):
                out('disconnected')
                return

    def map_window(self, pool_size):
        fd = self.fds.pop(0)
        self.pool = mmap.mmap(fd, pool_size)
        os.close(fd)
        stride = WIDTH * 4
        self.pool[0:stride * HEIGHT] = b'\x40\x80\xc0\xff' * (WIDTH * HEIGHT)
        create = struct.pack('<IIiiIIIIiiII', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, WIDTH, HEIGHT)
        self.send(msg(WINDOW_CREATE, 1, create))
        self.send(msg(ATTACH, 1, struct.pack('<QIIIIII', 0, 1, WIDTH, HEIGHT, stride,
                                             XRGB8888, 0)))
        self.send(msg(DAMAGE, 1, b'', struct.pack('<iiii', 0, 0, WIDTH, HEIGHT)))
        self.send(msg(COMMIT, 1, struct.pack('<I', 1)))

    def answer(self, serial, max_bytes):
        if self.mode == 'silent':
            return
        if self.mode == 'wrong-serial':
            self.send(chunk(serial + 1, LAST, b'x'))
            return
        if self.mode == 'oversize':
            data = b'y' * (max_bytes + 1)
        else:
            data = self.text
        if not data:
            self.send(chunk(serial, LAST | EMPTY))
            return
        cuts = sorted({0, len(data) // 3, 2 * len(data) // 3, len(data)})
        parts = [data[a:b] for a, b in zip(cuts, cuts[1:]) if b > a]
        # keep every part within one message
        pieces = []
        for p in parts:
            pieces += [p[i:i + MAX_CHUNK] for i in range(0, len(p), MAX_CHUNK)]
        for i, p in enumerate(pieces):
            self.send(chunk(serial, LAST if i == len(pieces) - 1 else 0, p))

    def run(self):
        self.send(msg(HELLO, 0, struct.pack('<III', 1, 1, 0), b'clip-guest'))
        deadline = time.monotonic() + TIMEOUT
        for kind, obj, data in self.messages(deadline):
            if kind == WELCOME:
                _, _, pool_size = struct.unpack_from('<IIQ', data)
                out('welcome', data[16:].decode())
                if self.mode == 'unsolicited':
                    self.send(chunk(7, LAST, b'hello'))
                else:
                    self.map_window(pool_size)
            elif kind == PING:
                self.send(msg(PONG, 0, data[:4]))
            elif kind == CONFIGURE:
                serial = struct.unpack_from('<I', data)[0]
                self.send(msg(ACK_CONFIGURE, obj, struct.pack('<I', serial)))
                self.send(msg(COMMIT, obj, struct.pack('<I', 2)))
            elif kind == FRAME_DONE and obj == 1 and self.pool is not None:
                if not getattr(self, 'mapped', False):
                    self.mapped = True
                    out('mapped')
            elif kind == CLIPBOARD_REQUEST:
                serial, max_bytes = struct.unpack_from('<II', data)
                out('request', serial, max_bytes)
                self.answer(serial, max_bytes)
            elif kind == CLIPBOARD_SET:
                serial, flags = struct.unpack_from('<II', data)
                got = self.set_data.get(serial, b'') + data[8:]
                self.set_data[serial] = got
                if flags & LAST:
                    out('set', len(got), got.hex())
                    del self.set_data[serial]
            elif kind == ERROR:
                code = struct.unpack_from('<I', data)[0]
                out('error', code, data[4:].decode(errors='replace'))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    text = bytes.fromhex(sys.argv[3]) if len(sys.argv) > 3 else b''
    Guest(sys.argv[1], sys.argv[2], text).run()


if __name__ == '__main__':
    main()
