#!/usr/bin/python3
"""Write the display-string sanitizer's table of invisible code points.

usage: gen-invisible.py UnicodeData.txt DerivedCoreProperties.txt OUT.h

Invisible (protocol/README.md, section 9) is every code point with the
property Default_Ignorable_Code_Point, of general category Cf (format:
bidi controls among them), Zl or Zp, taken from the Unicode data Debian
ships (package unicode-data). C0, DEL and C1 are handled apart by the
sanitizer (replaced, not dropped) and are not in the table.
"""
import sys


def ranges_of(points):
    out = []
    for cp in sorted(points):
        if out and cp == out[-1][1] + 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def main():
    unicode_data, derived, out_path = sys.argv[1:4]
    points = set()
    version = '?'
    with open(derived, encoding='utf-8') as f:
        for line in f:
            if line.startswith('# DerivedCoreProperties-'):
                version = line[len('# DerivedCoreProperties-'):].split('.txt')[0]
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            field, prop = (x.strip() for x in line.split(';')[:2])
            if prop != 'Default_Ignorable_Code_Point':
                continue
            first, _, last = field.partition('..')
            points.update(range(int(first, 16), int(last or first, 16) + 1))
    with open(unicode_data, encoding='utf-8') as f:
        first = None  # the start of a "<..., First>" / "<..., Last>" range
        for line in f:
            fields = line.split(';')
            if len(fields) < 3:
                continue
            cp = int(fields[0], 16)
            if fields[1].endswith(', First>'):
                first = cp
                continue
            start = first if fields[1].endswith(', Last>') and first is not None else cp
            first = None
            if fields[2] in ('Cf', 'Zl', 'Zp'):
                points.update(range(start, cp + 1))
    points = {cp for cp in points if cp >= 0xa0}
    if len(points) < 100:
        sys.exit('gen-invisible.py: too few invisible code points: wrong input files?')
    with open(out_path, 'w', encoding='ascii') as out:
        out.write('/* Written by protocol/gen-invisible.py from Unicode %s data:\n'
                  ' * Default_Ignorable_Code_Point, general categories Cf, Zl, Zp. */\n'
                  % version)
        out.write('#define VTP_UNICODE_VERSION "%s"\n' % version)
        out.write('static const struct range invisible[] = {\n')
        for first, last in ranges_of(points):
            out.write('\t{ 0x%04x, 0x%04x },\n' % (first, last))
        out.write('};\n')


main()
