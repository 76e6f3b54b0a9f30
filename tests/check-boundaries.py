#!/usr/bin/python3
"""The architecture rules of the tree, checked over #include lines and
meson.build files (see HACKING.md). Exit 0 when they hold; else 1, with
one line per broken rule: FILE: RULE.

    check-boundaries.py ROOT

Rules:
  link       the VM transport (compositor/guest/vm_link.[ch]) includes only
             the protocol library, wayland-server (and common/loop.h, its
             header-only helper), wlroots' log and the C library.
  root       only the composition root (compositor/main.c, server.c)
             includes both guest/ and services/ headers; guest/ never
             includes services/; services/ reaches guest/ only through
             the transport's header (guest/vm_link.h), never the windows.
  input      input/ reaches guest windows only through view_impl and
             services only through its signals and grab: it includes
             nothing of guest/ or services/.
  json       in the host compositor only ipc/ includes json-c; protocol/,
             common/ and guest-agent/ never do.
  relative   no #include "../..."; no meson.build compiles a source from
             another component's folder.
  namespace  compositor sources include compositor headers by their
             folder ("tree/view.h"); shared libraries by <vitrail/...>.
  once       one definition of each guest-value rule and of the display
             string sanitizer (no private copies of them).
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
COMPONENTS = ('compositor', 'guest-agent', 'protocol', 'common', 'vmm-glue', 'vitrailctl')
# Functions that are guest-value rules: defined once, in protocol/.
RULE_NAMES = ('valid_desktop_id', 'sanitize_display', 'printable', 'valid_mime_type',
              'valid_vm_name')
LINK_ALLOWED = re.compile(r'^(vitrail/protocol\.h|vitrail/common/loop\.h|wayland-server-core\.h|wlr/util/log\.h|'
                          r'[a-z0-9_]+\.h|sys/[a-z0-9_]+\.h|linux/[a-z0-9_]+\.h)$')


def sources(root, top):
    base = os.path.join(root, top)
    for d, dirs, files in os.walk(base):
        dirs[:] = [x for x in dirs if x not in ('build', '.git')]
        for f in files:
            if f.endswith(('.c', '.h')):
                yield os.path.relpath(os.path.join(d, f), root)


def includes(root, path):
    with open(os.path.join(root, path), encoding='utf-8', errors='replace') as f:
        return INCLUDE.findall(f.read())


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    bad = []

    def broke(path, rule, what):
        bad.append('%s: %s: %s' % (path, rule, what))

    for top in COMPONENTS:
        for path in sources(root, top):
            incs = includes(root, path)
            quoted = [name for kind, name in incs if kind == '"']
            angled = [name for kind, name in incs if kind == '<']
            for name in quoted:
                if name.startswith('../') or '/../' in name:
                    broke(path, 'relative', '#include "%s"' % name)
            if any(n.startswith(('json-c/', 'json.h')) for n in angled):
                if top in ('protocol', 'common', 'guest-agent') or (
                        top == 'compositor' and not path.startswith('compositor/ipc/')):
                    broke(path, 'json', 'includes json-c')
            if top != 'compositor':
                continue
            sub = path.split('/')[1] if path.count('/') > 1 else ''
            for name in quoted:
                if name.endswith('-protocol.h'):
                    continue  # generated next to the build
                if '/' not in name and name not in ('config.h', 'config_edit.h', 'server.h'):
                    broke(path, 'namespace', '#include "%s" (name its folder)' % name)
            if path.startswith('compositor/guest/vm_link.'):
                for name in quoted:
                    if name != 'guest/vm_link.h':
                        broke(path, 'link', '#include "%s"' % name)
                for name in angled:
                    if not LINK_ALLOWED.match(name):
                        broke(path, 'link', '#include <%s>' % name)
            # the transport's header is not "guest windows": services send
            # to VMs through it
            uses_guest = any(n.startswith('guest/') and n != 'guest/vm_link.h' for n in quoted)
            uses_services = any(n.startswith('services/') for n in quoted)
            if sub == 'guest' and uses_services:
                broke(path, 'root', 'guest/ includes services/')
            if sub == 'services' and uses_guest:
                broke(path, 'root', 'services/ includes guest/')
            if uses_guest and uses_services and path not in ('compositor/main.c',
                                                             'compositor/server.c'):
                broke(path, 'root', 'includes both guest/ and services/')
            if sub == 'input' and uses_guest:
                broke(path, 'input', 'input/ includes guest/ (use view_impl)')
            if sub == 'input' and uses_services:
                broke(path, 'input', 'input/ includes services/ (use seat signals or a grab)')

    # One definition of each guest-value rule, in protocol/.
    definition = re.compile(r'^(?:static\s+)?(?:bool|void|char\s*\*|size_t)\s+'
                            r'([a-z_]*(?:%s))\s*\(' % '|'.join(RULE_NAMES), re.M)
    for top in COMPONENTS:
        for path in sources(root, top):
            if not path.endswith('.c') or path.startswith('protocol/'):
                continue
            with open(os.path.join(root, path), encoding='utf-8', errors='replace') as f:
                for m in definition.finditer(f.read()):
                    broke(path, 'once', '%s() copies a rule that belongs in protocol/'
                          % m.group(1))

    # meson: no source from another component's folder.
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in ('build', '.git') and not x.startswith('build')]
        if os.path.relpath(d, root).startswith('tests/boundaries'):
            continue  # the checker's own bad examples
        if 'meson.build' not in files:
            continue
        path = os.path.relpath(os.path.join(d, 'meson.build'), root)
        with open(os.path.join(d, 'meson.build'), encoding='utf-8') as f:
            text = f.read()
        for m in re.finditer(r"'((?:\.\./)+)([^']*)'", text):
            target = os.path.normpath(os.path.join(os.path.dirname(path), m.group(0)[1:-1]))
            if target.split(os.sep)[0] == path.split(os.sep)[0] and '/' in path:
                continue  # another folder of the same component
            broke(path, 'relative', "'%s' in meson.build" % m.group(0)[1:-1])

    for line in bad:
        print(line)
    if bad:
        print('check-boundaries: %d broken rule%s (see HACKING.md)'
              % (len(bad), '' if len(bad) == 1 else 's'))
        return 1
    print('check-boundaries: every rule holds')
    return 0


if __name__ == '__main__':
    sys.exit(main())
