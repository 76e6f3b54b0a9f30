#!/usr/bin/python3
"""More pixel checks for the agent's tests, on grim's binary PPM.

usage: agentpix.py SHOT CHECK ARGS...
  colors X Y W H MIN          the rectangle holds at least MIN distinct colors
  mostly X Y W H COLOR PCT    at least PCT percent of its pixels are COLOR
  save X Y W H FILE           write the rectangle's pixels (raw RGB) to FILE
  same X Y W H FILE           the rectangle equals the pixels saved in FILE
  changed X Y W H FILE        the rectangle differs from the pixels in FILE
Exit 0 when the check holds, 1 (with a reason on stderr) when not.
"""
import sys


def load(path):
    data = open(path, 'rb').read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1
    if fields[0] != b'P6' or fields[3] != b'255':
        sys.exit('%s: not an 8-bit P6 PPM' % path)
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[pos:pos + w * h * 3]


def crop(shot, x, y, w, h):
    sw, sh, px = shot
    if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > sw or y + h > sh:
        sys.exit('rectangle %d,%d %dx%d outside the %dx%d screenshot' % (x, y, w, h, sw, sh))
    return b''.join(px[((y + j) * sw + x) * 3:((y + j) * sw + x + w) * 3] for j in range(h))


def main():
    shot = load(sys.argv[1])
    check = sys.argv[2]
    x, y, w, h = (int(a) for a in sys.argv[3:7])
    rest = sys.argv[7:]
    pixels = crop(shot, x, y, w, h)
    triples = [pixels[i:i + 3] for i in range(0, len(pixels), 3)]
    if check == 'colors':
        n = len(set(triples))
        if n < int(rest[0]):
            sys.exit('colors: %d distinct colors in %d,%d %dx%d, want >= %s' % (n, x, y, w, h, rest[0]))
    elif check == 'mostly':
        want = bytes.fromhex(rest[0])
        n = sum(1 for t in triples if t == want)
        if n * 100 < int(rest[1]) * len(triples):
            sys.exit('mostly: %d of %d pixels are %s, want %s%%' % (n, len(triples), rest[0], rest[1]))
    elif check == 'save':
        open(rest[0], 'wb').write(pixels)
    elif check == 'same':
        if open(rest[0], 'rb').read() != pixels:
            sys.exit('same: %d,%d %dx%d differs from %s' % (x, y, w, h, rest[0]))
    elif check == 'changed':
        if open(rest[0], 'rb').read() == pixels:
            sys.exit('changed: %d,%d %dx%d did not change' % (x, y, w, h))
    else:
        sys.exit('unknown check %s' % check)


main()
