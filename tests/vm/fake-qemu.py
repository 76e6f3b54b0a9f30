#!/usr/bin/python3
"""A stand-in for qemu-system-x86_64 in vmm-glue's life-cycle tests.

It reads the options vmm-glue passes, checks the pool file like QEMU would,
writes the pidfile and serves QMP on the -qmp socket: greeting,
qmp_capabilities, query-status, system_powerdown (the "guest" powers off),
quit. FAKE_QEMU_MODE changes its behaviour:
  normal            as above
  ignore-powerdown  the guest ignores the power button (only quit works)
  die-early         print an error like QEMU's and exit 1 before listening
"""
import json
import os
import socket
import sys


def option(name):
    args = sys.argv[1:]
    for i, a in enumerate(args[:-1]):
        if a == name:
            return args[i + 1]
    return None


def unescape_path(value, prefix):
    """'unix:/a,,b,server=on' -> '/a,b' (QEMU's doubled commas)."""
    value = value[len(prefix):]
    out = []
    i = 0
    while i < len(value):
        if value[i] == ',':
            if value[i + 1:i + 2] == ',':
                out.append(',')
                i += 2
                continue
            break
        out.append(value[i])
        i += 1
    return ''.join(out)


def main():
    mode = os.environ.get('FAKE_QEMU_MODE', 'normal')
    qmp_path = unescape_path(option('-qmp'), 'unix:')
    pidfile = option('-pidfile')
    backend = option('-object')
    pool = None
    for part in backend.split(','):
        if part.startswith('mem-path='):
            pool = part[len('mem-path='):]
    if mode == 'die-early':
        sys.stderr.write('qemu-system-x86_64: -object memory-backend-file: '
                         'fake failure for the test\n')
        return 1
    if pool is None or not os.path.exists(pool):
        sys.stderr.write('qemu-system-x86_64: cannot open the pool %s\n' % pool)
        return 1

    with open(pidfile, 'w') as f:
        f.write('%d\n' % os.getpid())
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(qmp_path)
    srv.listen(1)

    def leave(conn, event_reason, guest):
        ev = {'event': 'SHUTDOWN', 'data': {'guest': guest, 'reason': event_reason},
              'timestamp': {'seconds': 0, 'microseconds': 0}}
        try:
            conn.sendall((json.dumps(ev) + '\r\n').encode())
        except OSError:
            pass
        os.unlink(pidfile)
        os.unlink(qmp_path)
        sys.exit(0)

    while True:
        conn, _ = srv.accept()
        conn.sendall(b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, '
                     b'"major": 7}, "package": "fake"}, "capabilities": []}}\r\n')
        buf = b''
        while True:
            data = conn.recv(4096)
            if not data:
                conn.close()
                break
            buf += data
            while b'\n' in buf:
                line, buf = buf.split(b'\n', 1)
                cmd = json.loads(line)
                reply = {'return': {}}
                if 'id' in cmd:
                    reply['id'] = cmd['id']
                what = cmd.get('execute')
                if what == 'query-status':
                    reply['return'] = {'status': 'running', 'singlestep': False,
                                       'running': True}
                elif what not in ('qmp_capabilities', 'system_powerdown', 'quit'):
                    reply = {'error': {'class': 'CommandNotFound',
                                       'desc': 'no %s here' % what}, 'id': cmd.get('id')}
                conn.sendall((json.dumps(reply) + '\r\n').encode())
                if what == 'system_powerdown' and mode != 'ignore-powerdown':
                    leave(conn, 'guest-shutdown', True)
                if what == 'quit':
                    leave(conn, 'host-qmp-quit', False)


if __name__ == '__main__':
    sys.exit(main())
