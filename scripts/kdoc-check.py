#!/usr/bin/env python3
"""Check that every EXPORT_SYMBOL*()ed function of the given C files has a
kernel-doc comment with 'Context:' and, unless it returns void, 'Return:'."""
import re
import sys

bad = 0
for path in sys.argv[1:]:
    src = open(path).read()
    for m in re.finditer(r'EXPORT_SYMBOL(?:_GPL)?\((\w+)\);', src):
        name = m.group(1)
        d = re.search(r'/\*\*\n \* %s\(\)?[^\n]*\n(.*?)\*/\n([^{;]*?)\b%s\(' %
                      (name, name), src, re.S)
        if not d:
            print('%s: %s: no kernel-doc' % (path, name))
            bad += 1
            continue
        doc, proto = d.group(1), d.group(2)
        if 'Context:' not in doc:
            print('%s: %s: no Context:' % (path, name))
            bad += 1
        if not re.match(r'\s*void\s', proto) and 'Return:' not in doc:
            print('%s: %s: no Return:' % (path, name))
            bad += 1
sys.exit(1 if bad else 0)
