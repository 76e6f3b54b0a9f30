#!/usr/bin/python3
"""Check that a file is a valid PNG and look at its pixels (stdlib only).

usage: pngcheck.py FILE CHECK...
checks:
  size W H              the image is W x H
  pixel X Y RRGGBB      the pixel is exactly this color and opaque
  not-pixel X Y RRGGBB  the pixel is not this color
  write-ppm OUT         (debugging) write the image as a PPM

The file must be a well-formed PNG: signature, chunks with correct CRCs,
IHDR first, IDAT data that inflates to exactly the rows the header
announces, IEND last. 8-bit RGB and RGBA, not interlaced (what cairo
writes). Exit status 0 when every check holds, 1 otherwise.
"""
import struct
import sys
import zlib


def fail(msg):
    print('pngcheck: ' + msg, file=sys.stderr)
    sys.exit(1)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def load(path):
    try:
        data = open(path, 'rb').read()
    except OSError as e:
        fail('%s: %s' % (path, e))
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        fail('%s: no PNG signature' % path)
    pos, chunks = 8, []
    while pos < len(data):
        if pos + 12 > len(data):
            fail('%s: truncated chunk' % path)
        length, = struct.unpack('>I', data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length or pos + 12 + length > len(data):
            fail('%s: truncated %r chunk' % (path, kind))
        crc, = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) & 0xffffffff != crc:
            fail('%s: bad CRC in %r chunk' % (path, kind))
        chunks.append((kind, body))
        pos += 12 + length
        if kind == b'IEND':
            break
    if pos != len(data):
        fail('%s: data after IEND' % path)
    if not chunks or chunks[0][0] != b'IHDR' or chunks[-1][0] != b'IEND':
        fail('%s: IHDR not first or IEND not last' % path)
    width, height, depth, ctype, comp, filt, interlace = struct.unpack('>IIBBBBB', chunks[0][1])
    if width == 0 or height == 0 or depth != 8 or ctype not in (2, 6) or comp or filt or interlace:
        fail('%s: unsupported PNG (%dx%d depth %d type %d interlace %d)'
             % (path, width, height, depth, ctype, interlace))
    bpp = 4 if ctype == 6 else 3
    try:
        raw = zlib.decompress(b''.join(body for kind, body in chunks if kind == b'IDAT'))
    except zlib.error as e:
        fail('%s: bad image data: %s' % (path, e))
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        fail('%s: image data of %d bytes, want %d' % (path, len(raw), height * (stride + 1)))
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xff
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xff
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xff
            elif ftype == 4:
                line[i] = (line[i] + paeth(a, b, c)) & 0xff
            elif ftype != 0:
                fail('%s: bad filter type %d in row %d' % (path, ftype, y))
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def main(argv):
    if len(argv) < 2:
        fail('usage: pngcheck.py FILE CHECK...')
    path, args = argv[1], argv[2:]
    width, height, bpp, rows = load(path)

    def rgba(x, y):
        if not (0 <= x < width and 0 <= y < height):
            fail('%s: pixel %d,%d outside the %dx%d image' % (path, x, y, width, height))
        p = rows[y][x * bpp:(x + 1) * bpp]
        return (p[0] << 16 | p[1] << 8 | p[2]), (p[3] if bpp == 4 else 255)

    while args:
        check = args.pop(0)
        if check == 'size':
            w, h = int(args.pop(0)), int(args.pop(0))
            if (width, height) != (w, h):
                fail('%s: %dx%d, want %dx%d' % (path, width, height, w, h))
        elif check in ('pixel', 'not-pixel'):
            x, y, want = int(args.pop(0)), int(args.pop(0)), int(args.pop(0), 16)
            color, alpha = rgba(x, y)
            if check == 'pixel' and (color != want or alpha != 255):
                fail('%s: pixel %d,%d is %06x alpha %d, want %06x opaque'
                     % (path, x, y, color, alpha, want))
            if check == 'not-pixel' and color == want:
                fail('%s: pixel %d,%d is %06x' % (path, x, y, color))
        elif check == 'write-ppm':
            out = args.pop(0)
            with open(out, 'wb') as f:
                f.write(b'P6\n%d %d\n255\n' % (width, height))
                for row in rows:
                    for x in range(width):
                        f.write(bytes(row[x * bpp:x * bpp + 3]))
        else:
            fail('unknown check %r' % check)


if __name__ == '__main__':
    main(sys.argv)
