#!/usr/bin/python3
"""Pixel checks on a binary PPM (P6) screenshot, as taken by `grim -t ppm`.

usage: pixels.py SHOT.ppm CHECK [ARGS...] [--ignore X Y W H]...

checks (colors are RRGGBB, rectangles X Y W H in layout pixels):
  pixel X Y COLOR          one pixel is exactly COLOR
  rect X Y W H COLOR       every pixel of the rectangle is exactly COLOR
  not-rect X Y W H COLOR   no pixel of the rectangle is COLOR
  frame X Y W H COLOR      the host frame around content X Y W H (see below)
  dump X Y W H             print the colors found in a rectangle (debugging)

frame: the 4 px border (left, right, bottom, and above the 24 px title bar)
is exactly COLOR; the title bar (X, Y-24, W, 24) is mostly COLOR (focused)
or COLOR darkened to 70% (unfocused), with some other pixels in it (the
title text and the close button). --ignore excludes pixels covered by
something else (another window on top). Exit status 0 when the check
holds, 1 with a description of the first mismatches when not.
"""
import sys


def load_ppm(path):
    with open(path, 'rb') as f:
        data = f.read()
    # header: P6 <ws> width <ws> height <ws> maxval <one ws> pixels
    fields = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b'#':
            while data[pos:pos + 1] not in (b'\n', b''):
                pos += 1
            continue
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1
    if fields[0] != b'P6' or int(fields[3]) != 255:
        raise SystemExit('%s: not an 8-bit P6 PPM' % path)
    width, height = int(fields[1]), int(fields[2])
    pixels = data[pos:pos + width * height * 3]
    if len(pixels) != width * height * 3:
        raise SystemExit('%s: truncated PPM' % path)
    return width, height, pixels


class Shot:
    def __init__(self, path):
        self.width, self.height, self.data = load_ppm(path)
        self.ignore = []

    def at(self, x, y):
        i = (y * self.width + x) * 3
        d = self.data
        return (d[i] << 16) | (d[i + 1] << 8) | d[i + 2]

    def ignored(self, x, y):
        for (ix, iy, iw, ih) in self.ignore:
            if ix <= x < ix + iw and iy <= y < iy + ih:
                return True
        return False

    def points(self, x, y, w, h):
        for j in range(max(y, 0), min(y + h, self.height)):
            for i in range(max(x, 0), min(x + w, self.width)):
                if not self.ignored(i, j):
                    yield i, j

    def check_bounds(self, x, y, w, h, what):
        if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > self.width or y + h > self.height:
            fail('%s: rectangle %d,%d %dx%d is not inside the %dx%d screenshot'
                 % (what, x, y, w, h, self.width, self.height))


def fail(msg):
    print('pixels: ' + msg, file=sys.stderr)
    sys.exit(1)


def color(s):
    s = s.lstrip('#')
    if len(s) != 6:
        raise SystemExit('bad color ' + s)
    return int(s, 16)


def hexc(c):
    return '#%06x' % c


def darken(c, f=0.7):
    r, g, b = (c >> 16) & 255, (c >> 8) & 255, c & 255
    return (int(r * f + 0.5) << 16) | (int(g * f + 0.5) << 8) | int(b * f + 0.5)


def near(a, b, tol):
    return all(abs(((a >> s) & 255) - ((b >> s) & 255)) <= tol for s in (16, 8, 0))


def row_ignored(shot, y, x, w):
    return any(iy <= y < iy + ih and ix < x + w and x < ix + iw
               for (ix, iy, iw, ih) in shot.ignore)


def expect_rect(shot, x, y, w, h, want, what):
    shot.check_bounds(x, y, w, h, what)
    # fast path: whole rows compared as bytes
    row = bytes(((want >> 16) & 255, (want >> 8) & 255, want & 255)) * w
    slow_rows = []
    for j in range(y, y + h):
        if row_ignored(shot, j, x, w):
            slow_rows.append(j)
            continue
        start = (j * shot.width + x) * 3
        if shot.data[start:start + 3 * w] != row:
            slow_rows.append(j)
    if not slow_rows:
        return
    bad = []
    total = (h - len(slow_rows)) * w
    for i, j in ((i, j) for j in slow_rows for i, _ in shot.points(x, j, w, 1)):
        total += 1
        c = shot.at(i, j)
        if c != want:
            bad.append((i, j, c))
    if bad:
        sample = ', '.join('(%d,%d)=%s' % (i, j, hexc(c)) for i, j, c in bad[:6])
        fail('%s: %d of %d pixels in %d,%d %dx%d are not %s: %s'
             % (what, len(bad), total, x, y, w, h, hexc(want), sample))
    if total == 0:
        fail('%s: every pixel of %d,%d %dx%d is ignored' % (what, x, y, w, h))


def check_frame(shot, x, y, w, h, label):
    # border: left and right run from the top border to the bottom border
    expect_rect(shot, x - 4, y - 28, 4, h + 32, label, 'left border')
    expect_rect(shot, x + w, y - 28, 4, h + 32, label, 'right border')
    expect_rect(shot, x - 4, y - 28, w + 8, 4, label, 'top border')
    expect_rect(shot, x - 4, y + h, w + 8, 4, label, 'bottom border')
    # title bar
    shot.check_bounds(x, y - 24, w, 24, 'title bar')
    dark = darken(label)
    plain = other = total = 0
    for i, j in shot.points(x, y - 24, w, 24):
        total += 1
        c = shot.at(i, j)
        if c == label or near(c, dark, 2):
            plain += 1
        else:
            other += 1
    if total == 0:
        fail('title bar: every pixel is ignored')
    if plain * 2 < total:
        fail('title bar at %d,%d %dx24: only %d of %d pixels are %s or %s (70%%)'
             % (x, y - 24, w, plain, total, hexc(label), hexc(dark)))
    if other < 10:
        fail('title bar at %d,%d %dx24: no text or close button drawn (%d other pixels)'
             % (x, y - 24, w, other))


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    shot = Shot(argv[1])
    args = argv[2:]
    while '--ignore' in args:
        k = args.index('--ignore')
        shot.ignore.append(tuple(int(v) for v in args[k + 1:k + 5]))
        del args[k:k + 5]
    check, rest = args[0], args[1:]
    if check == 'pixel':
        x, y = int(rest[0]), int(rest[1])
        want = color(rest[2])
        shot.check_bounds(x, y, 1, 1, 'pixel')
        got = shot.at(x, y)
        if got != want:
            fail('pixel %d,%d is %s, not %s' % (x, y, hexc(got), hexc(want)))
    elif check in ('rect', 'not-rect'):
        x, y, w, h = (int(v) for v in rest[:4])
        want = color(rest[4])
        if check == 'rect':
            expect_rect(shot, x, y, w, h, want, 'rect')
        else:
            shot.check_bounds(x, y, w, h, 'not-rect')
            pattern = bytes(((want >> 16) & 255, (want >> 8) & 255, want & 255))
            hits = []
            for j in range(y, y + h):
                start = (j * shot.width + x) * 3
                line = shot.data[start:start + 3 * w]
                k = line.find(pattern)
                while k >= 0 and len(hits) < 100:
                    if k % 3 == 0 and not shot.ignored(x + k // 3, j):
                        hits.append((x + k // 3, j))
                    k = line.find(pattern, k + 1)
            if hits:
                fail('not-rect: %d pixels in %d,%d %dx%d are %s, e.g. %s'
                     % (len(hits), x, y, w, h, hexc(want), hits[:4]))
    elif check == 'frame':
        x, y, w, h = (int(v) for v in rest[:4])
        check_frame(shot, x, y, w, h, color(rest[4]))
    elif check == 'dump':
        x, y, w, h = (int(v) for v in rest[:4])
        counts = {}
        for i, j in shot.points(x, y, w, h):
            c = shot.at(i, j)
            counts[c] = counts.get(c, 0) + 1
        for c, n in sorted(counts.items(), key=lambda kv: -kv[1])[:12]:
            print('%s %d' % (hexc(c), n))
    else:
        print('unknown check ' + check, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
