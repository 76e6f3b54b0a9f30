#!/usr/bin/python3
"""A stand-in for qemu-system-x86_64 in vmm-glue's life-cycle tests.

It reads the options vmm-glue passes, checks how it was started (the pool
is an inherited memfd sealed against shrinking, growing and new seals,
named by mem-path=/proc/self/fd/N, of the size given; the -sandbox option
denies everything; the environment is PATH alone; it runs in the directory
of its QMP socket), writes the pidfile and serves QMP on the -qmp socket:
greeting, qmp_capabilities, query-status, system_powerdown (the "guest"
powers off), quit. As QEMU gets no environment but PATH, each setting
below is read from the environment or else from a file of its name in the
current directory. FAKE_QEMU_MODE changes its behaviour:
  normal            as above
  ignore-powerdown  the guest ignores the power button (only quit works)
  die-early         print an error like QEMU's and exit 1 before listening
  swap-pool         a compromised QEMU: once checked, its pool fd is
                    replaced by a plain file it can truncate
                    (./swapped-pool, made last)
  migrate-fails     a save (migrate) ends "failed"
Saving (vmm_vm_suspend): stop, cont, migrate-set-parameters, migrate_cancel
are accepted; getfd takes the descriptor sent with it; migrate writes
"FAKE-STATE <run state>" to it and query-migrate says "completed". With
-incoming fd:5 it reads fd 5 first ("load failed" unless it starts with
FAKE-STATE), query-status says "inmigrate" once, then "paused" (the state
was saved stopped) until cont. ./fake-qemu.log gets one line per command.
FAKE_QEMU_KVM says how KVM behaves (the probe is the run with an
isa-debug-exit device; it must carry the 64 KiB firmware in -bios):
  none (default)    no KVM: the probe and -accel kvm fail at once
  ok                the probe passes, VMs run under KVM
  msr               QEMU aborts under KVM like on hosts where it cannot set
                    MSR 0x10a (the probe and VMs)
  hang              QEMU hangs under KVM (the probe and VMs)
  vm-dies           the probe passes, but a VM under -accel kvm aborts
  vm-hangs          the probe passes, but a VM under -accel kvm shows no
                    progress (QMP answers, the guest never runs)
"""
import fcntl
import json
import os
import socket
import sys
import time


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


def setting(name, default):
    if name in os.environ:
        return os.environ[name]
    try:
        with open(name) as f:
            return f.read().strip()
    except OSError:
        return default


SANDBOX = 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny'
SEALS = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL


def check_confinement(backend, qmp_path):
    """None, or what is wrong with how vmm-glue started us."""
    opts = dict(p.split('=', 1) for p in backend.split(',')[1:] if '=' in p)
    path = opts.get('mem-path', '')
    if not path.startswith('/proc/self/fd/'):
        return 'the pool is not an inherited fd: %s' % path
    fd = int(path[len('/proc/self/fd/'):])
    try:
        seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
        size = os.fstat(fd).st_size
    except OSError as e:
        return 'pool fd %d: %s' % (fd, e)
    if seals & SEALS != SEALS:
        return 'pool fd %d is not sealed (seals %#x)' % (fd, seals)
    if size != int(opts.get('size', '0')):
        return 'pool fd %d has %d bytes, not %s' % (fd, size, opts.get('size'))
    if option('-sandbox') != SANDBOX:
        return 'no full -sandbox: %s' % option('-sandbox')
    env = set(os.environ) - {'LC_CTYPE'}  # python's locale coercion adds it
    if env != {'PATH'}:
        return 'environment is not PATH alone: %s' % sorted(env)
    if os.getcwd() != os.path.dirname(qmp_path):
        return 'runs in %s, not in %s' % (os.getcwd(), os.path.dirname(qmp_path))
    return None


def kvm_fails(kvm):
    if kvm == 'none':
        sys.stderr.write('Could not access KVM kernel module: No such file or directory\n'
                         'qemu-system-x86_64: failed to initialize kvm: No such file or directory\n')
        sys.exit(1)
    if kvm == 'msr':
        sys.stderr.write('qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n'
                         'qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: '
                         "Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.\n")
        sys.stderr.flush()
        os.abort()
    if kvm == 'hang':
        time.sleep(120)
        sys.exit(1)


def probe(kvm):
    """The KVM probe: check its firmware, then behave as FAKE_QEMU_KVM says."""
    with open(option('-bios'), 'rb') as f:
        firmware = f.read()
    if len(firmware) != 65536 or firmware[-16:-12] != bytes([0xb0, 0x21, 0xe6, 0xf4]):
        sys.stderr.write('qemu-system-x86_64: fake: not the probe firmware\n')
        return 1
    kvm_fails(kvm)
    return (0x21 << 1) | 1  # what isa-debug-exit makes of the byte


def main():
    mode = setting('FAKE_QEMU_MODE', 'normal')
    kvm = setting('FAKE_QEMU_KVM', 'none')
    if any(a.startswith('isa-debug-exit') for a in sys.argv):
        return probe(kvm)
    if option('-accel') == 'kvm':
        kvm_fails('msr' if kvm == 'vm-dies' else kvm)
    qmp_path = unescape_path(option('-qmp'), 'unix:')
    pidfile = option('-pidfile')
    backend = option('-object')
    if mode == 'die-early':
        sys.stderr.write('qemu-system-x86_64: -object memory-backend-file: '
                         'fake failure for the test\n')
        return 1
    wrong = check_confinement(backend, qmp_path)
    if wrong is not None:
        sys.stderr.write('qemu-system-x86_64: fake: %s\n' % wrong)
        return 1
    if mode == 'swap-pool':
        size = os.fstat(3).st_size
        fd = os.open('swapped-pool.tmp', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.ftruncate(fd, size)
        os.dup2(fd, 3)
        os.close(fd)
        os.rename('swapped-pool.tmp', 'swapped-pool')

    running = True
    incoming = option('-incoming')
    if incoming is not None:
        data = os.read(5, 4096)
        if not data.startswith(b'FAKE-STATE'):
            sys.stderr.write('qemu-system-x86_64: load of migration failed\n')
            return 1
        os.close(5)
        running = False
    inmigrate = [incoming is not None]
    save_fd = [None]
    log = open('fake-qemu.log', 'a')

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
            data, fds, _, _ = socket.recv_fds(conn, 4096, 4)
            if fds:
                save_fd[0] = fds[0]
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
                log.write('%s %s\n' % (what, json.dumps(cmd.get('arguments', {}))))
                log.flush()
                if what == 'query-status':
                    status = 'running' if running else 'paused'
                    if inmigrate[0]:
                        status = 'inmigrate'
                        inmigrate[0] = False
                    reply['return'] = {'status': status, 'singlestep': False,
                                       'running': running}
                elif what in ('stop', 'cont'):
                    running = what == 'cont'
                elif what == 'getfd':
                    if save_fd[0] is None:
                        reply = {'error': {'class': 'GenericError',
                                           'desc': 'No file descriptor supplied via SCM_RIGHTS'},
                                 'id': cmd.get('id')}
                elif what == 'migrate':
                    if save_fd[0] is None:
                        reply = {'error': {'class': 'GenericError',
                                           'desc': "File descriptor named 'x' not found"},
                                 'id': cmd.get('id')}
                    else:
                        os.write(save_fd[0], b'FAKE-STATE %s\n' % (b'running' if running else b'paused'))
                        os.close(save_fd[0])
                        save_fd[0] = None
                elif what == 'query-migrate':
                    reply['return'] = {'status': 'failed' if mode == 'migrate-fails' else 'completed'}
                elif what not in ('qmp_capabilities', 'system_powerdown', 'quit',
                                  'migrate-set-parameters', 'migrate_cancel'):
                    reply = {'error': {'class': 'CommandNotFound',
                                       'desc': 'no %s here' % what}, 'id': cmd.get('id')}
                conn.sendall((json.dumps(reply) + '\r\n').encode())
                if what == 'system_powerdown' and mode != 'ignore-powerdown':
                    leave(conn, 'guest-shutdown', True)
                if what == 'quit':
                    leave(conn, 'host-qmp-quit', False)


if __name__ == '__main__':
    sys.exit(main())
