#!/usr/bin/python3
"""The agent against a scripted host: exact protocol checks without vitrail.

A real vitrail-agent runs a real client (vt-client, known pixels, a title
with control characters and invalid UTF-8); this script plays the host on
the agent's unix socket with a sealed memfd pool, and checks:

- HELLO, then for the window: WINDOW_CREATE, a sanitized SET_TITLE, a
  buffer inside the pool holding the client's pixels, DAMAGE, COMMIT;
- CONFIGURE is acked with the host's serial once the app acks it;
- PING gets PONG; RUN gets RUN_RESULT (exit status, and errno when the
  program does not exist);
- a malformed message from the host makes the agent drop the connection
  and reconnect; the window then comes back with the same pixels in a
  new pool, without the app drawing again;
- CLOSE closes the app, and the agent sends WINDOW_DESTROY;
- cursor: weston-terminal sets its cursor when the host's POINTER_ENTER
  reaches it; the agent sends SET_CURSOR for that window with the image
  in the pool;
- opaque or not: the buffer is XRGB8888 (the host's cheap path) when the
  contents are opaque: an XRGB8888 client, or an ARGB8888 one whose pixels
  all have alpha 255, or one whose shadow lies outside its xdg window
  geometry (cropped: the window is the geometry); ARGB8888 with the
  client's premultiplied pixels when some are transparent;
- damage only: a client repaints one stripe per frame and damages only it
  (vt-client --stripes); the host keeps up to two buffers, so the agent
  cycles three and must carry older stripes into reused buffers. Every
  committed buffer must be a consistent whole image, and DAMAGE must name
  only the changed stripe.

Environment: VITRAIL_AGENT, VT_CLIENT (set by meson).
"""
import fcntl
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

TIMEOUT = float(os.environ.get('E2E_TIMEOUT', '20'))
POOL = 16 << 20

HELLO, WELCOME, PING, PONG, ERROR, OUTPUT_INFO = 1, 2, 3, 4, 5, 6
WINDOW_CREATE, WINDOW_DESTROY, SET_TITLE, SET_APP_ID, SET_SIZE_HINTS = 16, 17, 18, 19, 20
CONFIGURE, ACK_CONFIGURE, CLOSE = 21, 22, 23
ATTACH, DAMAGE, COMMIT, FRAME_DONE, RELEASE = 32, 33, 34, 35, 36
KEY, RUN, RUN_RESULT = 56, 103, 104
BODY = {HELLO: 12, WINDOW_CREATE: 48, WINDOW_DESTROY: 0, SET_TITLE: 0, SET_APP_ID: 0,
        SET_SIZE_HINTS: 16, ACK_CONFIGURE: 4, ATTACH: 32, DAMAGE: 0, COMMIT: 4, PONG: 4,
        RUN_RESULT: 12, 37: 32, 24: 0, 25: 4, 26: 4, 27: 4}


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def msg(kind, obj, body=b'', tail=b''):
    return struct.pack('<HHII', kind, 0, 12 + len(body) + len(tail), obj) + body + tail


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b''
        self.log = []

    def send(self, data):
        self.sock.sendall(data)

    def recv(self, deadline):
        """The next message (type, object, body, tail), or None on EOF."""
        while True:
            if len(self.buf) >= 12:
                kind, flags, size, obj = struct.unpack_from('<HHII', self.buf)
                check(flags == 0, 'flags %d in a %d message' % (flags, kind))
                check(12 <= size <= 1 << 20, 'message size %d' % size)
                if len(self.buf) >= size:
                    data, self.buf = self.buf[12:size], self.buf[size:]
                    check(kind in BODY, 'unexpected message type %d from the agent' % kind)
                    n = BODY[kind]
                    check(len(data) >= n, 'short body for type %d' % kind)
                    self.log.append(kind)
                    return kind, obj, data[:n], data[n:]
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail('timeout waiting for a message (got %s)' % self.log[-12:])
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                d = self.sock.recv(65536)
                if not d:
                    return None
                self.buf += d

    def expect(self, want, deadline, on_other=None):
        """Read until a message of type want; others go to on_other."""
        while True:
            m = self.recv(deadline)
            check(m is not None, 'the agent closed the connection waiting for type %d' % want)
            if m[0] == want:
                return m
            if on_other is not None:
                on_other(m)


class Host:
    def __init__(self, path):
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(4)
        self.pool = None

    def accept(self, deadline):
        self.srv.settimeout(max(deadline - time.monotonic(), 0.1))
        try:
            s, _ = self.srv.accept()
        except socket.timeout:
            raise Fail('the agent did not connect')
        s.setblocking(True)
        return Conn(s)

    def handshake(self, conn, deadline):
        kind, obj, body, tail = conn.expect(HELLO, deadline)
        vmin, vmax, features = struct.unpack('<III', body)
        check(obj == 0 and features == 0 and 1 <= vmin <= vmax, 'bad HELLO %r' % (body,))
        check(vmin <= 1 <= vmax, 'the agent does not speak version 1')
        tail.decode('utf-8')
        fd = os.memfd_create('fake-pool', os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        os.ftruncate(fd, POOL)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
        welcome = msg(WELCOME, 0, struct.pack('<IIQ', 1, 1, POOL), b'fake')
        socket.send_fds(conn.sock, [welcome], [fd])
        self.pool = fd
        conn.send(msg(OUTPUT_INFO, 0, struct.pack('<IIII', 1024, 768, 1, 60000)))

    def pixels(self, offset, width, height, stride):
        data = os.pread(self.pool, stride * height, offset)
        return [data[y * stride:y * stride + width * 4] for y in range(height)]


def window(conn, deadline, state):
    """Follow messages until the window shows a committed buffer."""
    def other(m):
        kind, obj, body, tail = m
        if kind == WINDOW_CREATE:
            fields = struct.unpack('<IIiiIIIIiiII', body)
            check(obj != 0 and fields[0] == 1 and fields[1] == 0, 'WINDOW_CREATE %r' % (fields,))
            state['id'] = obj
            state['created'] = fields[10:12]
        elif kind == SET_TITLE:
            check(obj == state.get('id'), 'SET_TITLE for window %d' % obj)
            state['title'] = tail
        elif kind == ATTACH:
            off, bid, w, h, stride, fmt, res = struct.unpack('<QIIIIII', body)
            check(obj == state.get('id'), 'ATTACH before WINDOW_CREATE')
            check(res == 0 and fmt in (0x34325241, 0x34325258), 'ATTACH format %x' % fmt)
            check(off % 64 == 0 and stride >= w * 4 and stride % 4 == 0, 'ATTACH layout')
            check(off + stride * h <= POOL, 'ATTACH outside the pool')
            state['attach'] = (off, bid, w, h, stride)
            state['format'] = fmt
        elif kind == DAMAGE:
            check(len(tail) % 16 == 0 and 16 <= len(tail) <= 64 * 16, 'DAMAGE size')
            state['damaged'] = True
        elif kind == ACK_CONFIGURE:
            state.setdefault('acks', []).append(struct.unpack('<I', body)[0])
    kind, obj, body, tail = conn.expect(COMMIT, deadline, other)
    check(obj == state.get('id') and 'attach' in state and state.get('damaged'),
          'COMMIT without WINDOW_CREATE/ATTACH/DAMAGE')
    serial = struct.unpack('<I', body)[0]
    conn.send(msg(FRAME_DONE, obj, struct.pack('<QII', time.monotonic_ns(), 0, serial)))
    return state


TITLE = b'inbox \x1b[1m\xff\xfe ok\tdone'


def scenario_protocol(host, proc):
    deadline = time.monotonic() + TIMEOUT
    conn = host.accept(deadline)
    host.handshake(conn, deadline)
    st = window(conn, deadline, {})
    check(st['created'] == (64, 48), 'WINDOW_CREATE size %r' % (st['created'],))
    t = st['title'].decode('utf-8')
    check(all(ord(c) >= 0x20 and not 0x7f <= ord(c) <= 0x9f for c in t),
          'control characters in the title %r' % t)
    check(t.startswith('inbox ') and t.endswith(' ok done'), 'title %r' % t)
    off, bid, w, h, stride = st['attach']
    check((w, h) == (64, 48), 'buffer %dx%d' % (w, h))
    rows = host.pixels(off, w, h, stride)
    want = bytes.fromhex('996633ff') * w
    check(all(r == want for r in rows), 'the buffer does not hold the client pixels')
    wid = st['id']

    # CONFIGURE: acked with our serial once the app acks
    conn.send(msg(CONFIGURE, wid, struct.pack('<IIII', 4242, 0, 0, 1)))
    kind, obj, body, tail = conn.expect(ACK_CONFIGURE, deadline)
    check(obj == wid and struct.unpack('<I', body)[0] == 4242, 'ACK_CONFIGURE %r' % (body,))
    # PING -> PONG
    conn.send(msg(PING, 0, struct.pack('<I', 77)))
    kind, obj, body, tail = conn.expect(PONG, deadline)
    check(struct.unpack('<I', body)[0] == 77, 'PONG serial')
    # RUN -> RUN_RESULT
    conn.send(msg(RUN, 0, struct.pack('<I', 5), b'sh\0-c\0exit 7\0'))
    kind, obj, body, tail = conn.expect(RUN_RESULT, deadline)
    check(struct.unpack('<IIi', body) == (5, 0, 7), 'RUN_RESULT %r' % (struct.unpack('<IIi', body),))
    conn.send(msg(RUN, 0, struct.pack('<I', 6), b'/nonexistent/program\0'))
    kind, obj, body, tail = conn.expect(RUN_RESULT, deadline)
    check(struct.unpack('<IIi', body) == (6, 2, 2), 'RUN_RESULT (ENOENT) %r' % (struct.unpack('<IIi', body),))

    # A malformed message (KEY without a window): the agent reconnects.
    conn.send(msg(KEY, 0, struct.pack('<IIII', 1, 0, 30, 1)))
    deadline = time.monotonic() + TIMEOUT
    while conn.recv(deadline) is not None:
        pass
    conn.sock.close()
    check(proc.poll() is None, 'the agent exited on a malformed message')
    conn = host.accept(deadline)
    host.handshake(conn, deadline)
    st = window(conn, deadline, {})
    off, bid, w, h, stride = st['attach']
    rows = host.pixels(off, w, h, stride)
    check((w, h) == (64, 48) and all(r == want for r in rows),
          'after reconnecting, the window lost its pixels')
    check(st['title'].decode('utf-8') == t, 'title after reconnecting')

    # CLOSE: the app exits and its window goes
    conn.send(msg(CLOSE, st['id']))
    conn.expect(WINDOW_DESTROY, deadline)
    check(proc.poll() is None, 'the agent exited with its app')


STRIPES, FRAMES, W, H = 6, 60, 64, 60
BASE = bytes.fromhex('996633ff')


def stripe_rows(j):
    return range((j * H + STRIPES - 1) // STRIPES, ((j + 1) * H + STRIPES - 1) // STRIPES)


def stripe_frame(pixel):
    """The frame that painted a pixel (vt-client's colors), 0 for the base."""
    if pixel == BASE:
        return 0
    b, g, r, a = pixel
    check(b == 0x55 and a == 0xff, 'pixel %s is no frame color' % pixel.hex())
    return (r << 8) | g


def scenario_damage(host, proc):
    deadline = time.monotonic() + TIMEOUT
    conn = host.accept(deadline)
    host.handshake(conn, deadline)
    held = []  # buffer ids the host still shows or showed last
    buffers = set()
    wid = None
    frames_seen = 0
    damage = []
    while True:
        m = conn.recv(deadline)
        check(m is not None, 'the agent closed the connection')
        kind, obj, body, tail = m
        if kind == WINDOW_CREATE:
            wid = obj
        elif kind == ATTACH:
            attach = struct.unpack('<QIIIIII', body)
        elif kind == DAMAGE:
            damage += [struct.unpack_from('<iiii', tail, i) for i in range(0, len(tail), 16)]
        elif kind == COMMIT:
            off, bid, w, h, stride = attach[:5]
            check((w, h) == (W, H) and obj == wid, 'a %dx%d buffer' % (w, h))
            rows = host.pixels(off, w, h, stride)
            got = []
            for j in range(STRIPES):
                first = rows[stripe_rows(j)[0]][:4]
                check(all(r == first * W for r in (rows[y] for y in stripe_rows(j))),
                      'stripe %d of buffer %d is not uniform' % (j, bid))
                got.append(stripe_frame(first))
            k = max(got)
            want = []
            for j in range(STRIPES):
                last = k - ((k - j) % STRIPES)
                want.append(last if last >= 1 else 0)
            check(got == want, 'buffer %d shows frames %s, a consistent image is %s' % (bid, got, want))
            if frames_seen > 0:
                rows_damaged = set()
                for (x, y, dw, dh) in damage:
                    rows_damaged.update(range(max(y, 0), min(y + dh, H)))
                check(len(rows_damaged) <= 2 * (H // STRIPES + 1),
                      'frame %d: %d damaged rows for one changed stripe' % (k, len(rows_damaged)))
            damage = []
            frames_seen += 1
            buffers.add(bid)
            held.append(bid)
            if len(held) > 2:
                conn.send(msg(RELEASE, obj, struct.pack('<I', held.pop(0))))
            serial = struct.unpack('<I', body)[0]
            conn.send(msg(FRAME_DONE, obj, struct.pack('<QII', time.monotonic_ns(), 0, serial)))
            if k == FRAMES:
                break
    check(len(buffers) == 3, 'the agent used %d buffers, want 3' % len(buffers))
    check(frames_seen > FRAMES // 2, 'only %d frames reached the host' % frames_seen)


def scenario_cursor(host, proc):
    deadline = time.monotonic() + TIMEOUT
    conn = host.accept(deadline)
    host.handshake(conn, deadline)
    st = window(conn, deadline, {})
    wid = st['id']
    conn.send(msg(48, wid, struct.pack('<Iii', 1, 100 << 8, 80 << 8)))  # POINTER_ENTER

    def frames(m):
        if m[0] == COMMIT:
            serial = struct.unpack('<I', m[2])[0]
            conn.send(msg(FRAME_DONE, m[1], struct.pack('<QII', time.monotonic_ns(), 0, serial)))
    kind, obj, body, tail = conn.expect(37, deadline, frames)  # SET_CURSOR
    off, w, h, stride, hx, hy, res = struct.unpack('<QIIIiiI', body)
    check(obj == wid, 'SET_CURSOR for window %d, the pointer is in %d' % (obj, wid))
    check(1 <= w <= 256 and 1 <= h <= 256 and res == 0, 'cursor %dx%d' % (w, h))
    check(0 <= hx < w and 0 <= hy < h, 'hotspot %d,%d outside %dx%d' % (hx, hy, w, h))
    check(off % 64 == 0 and stride >= 4 * w and off + stride * h <= POOL, 'cursor placement')
    rows = host.pixels(off, w, h, stride)
    check(any(any(r[i + 3] for i in range(0, len(r), 4)) for r in rows),
          'the cursor image is fully transparent')


XRGB, ARGB = 0x34325258, 0x34325241


def scenario_format(want_format, want_size, want_pixels):
    """The first buffer: its format, size and pixels (rows of BGRA bytes)."""
    def scenario(host, proc):
        deadline = time.monotonic() + TIMEOUT
        conn = host.accept(deadline)
        host.handshake(conn, deadline)
        st = window(conn, deadline, {})
        off, bid, w, h, stride = st['attach']
        check((w, h) == want_size, 'buffer %dx%d, want %dx%d' % ((w, h) + want_size))
        check(st['created'] == want_size, 'WINDOW_CREATE size %r' % (st['created'],))
        check(st['format'] == want_format,
              'ATTACH format %x, want %x' % (st['format'], want_format))
        rows = host.pixels(off, w, h, stride)
        check(rows == want_pixels, 'the buffer does not hold the expected pixels')
    return scenario


def run_agent(name, scenario, client_args):
    agent = os.environ['VITRAIL_AGENT']
    client = client_args[0] if client_args[0].startswith('/') else os.environ['VT_CLIENT']
    if client_args[0].startswith('/'):
        client_args = client_args[1:]
    tmp = tempfile.mkdtemp(prefix='vitrail-agent-fakehost.')
    run = os.path.join(tmp, 'run')
    os.mkdir(run, 0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=run)
    env.pop('WAYLAND_DISPLAY', None)
    sock = os.path.join(tmp, 'vm.sock')
    host = Host(sock)
    log = open(os.path.join(tmp, 'agent.log'), 'wb')
    proc = subprocess.Popen([agent, '--connect', 'unix:' + sock, '--socket', 'agent-fh', '--',
                             client] + client_args,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    ok = False
    try:
        scenario(host, proc)
        ok = True
        print('fake host: %s: PASS' % name)
    except Fail as e:
        print('FAIL: %s: %s' % (name, e), file=sys.stderr)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if not ok:
            sys.stderr.write(open(os.path.join(tmp, 'agent.log'), errors='replace').read()[-4000:])
        shutil.rmtree(tmp, ignore_errors=True)
    return ok


def main():
    ok = run_agent('protocol', scenario_protocol,
                   ['--size', '64x48', '--color', '336699', '--title', TITLE])
    terminal = shutil.which('weston-terminal')
    if terminal is None:
        print('FAIL: weston-terminal is not installed (Debian package weston)', file=sys.stderr)
        return 1
    ok = run_agent('cursor', scenario_cursor, [terminal]) and ok
    blue = bytes.fromhex('996633ff')
    ok = run_agent('opaque-xrgb', scenario_format(XRGB, (64, 48), [blue * 64] * 48),
                   ['--size', '64x48', '--color', '336699']) and ok
    ok = run_agent('opaque-argb', scenario_format(XRGB, (64, 48), [blue * 64] * 48),
                   ['--size', '64x48', '--fill', '0,0,64x48,ff336699']) and ok
    corner = [bytes(4) * 8 + blue * 56] * 8 + [blue * 64] * 40
    ok = run_agent('translucent', scenario_format(ARGB, (64, 48), corner),
                   ['--size', '64x48', '--color', '336699', '--fill', '0,0,8x8,00000000']) and ok
    ok = run_agent('geometry', scenario_format(XRGB, (48, 32), [blue * 48] * 32),
                   ['--size', '64x48', '--color', '336699', '--geometry', '8,8,48x32']) and ok
    ok = run_agent('damage', scenario_damage,
                   ['--size', '%dx%d' % (W, H), '--color', '336699', '--stripes', str(STRIPES),
                    '--frames', str(FRAMES)]) and ok
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
