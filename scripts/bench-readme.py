#!/usr/bin/env python3
"""Copy build/bench/ (figures and plots of the last make bench) into
docs/bench/ and the figures into docs/bench.md, between its bench
markers."""
import os
import re
import shutil

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
src, dst = os.path.join(root, 'build/bench'), os.path.join(root, 'docs/bench')
os.makedirs(dst, exist_ok=True)
for f in ('bench.txt', 'report.png', 'respond.png', 'group.png',
          'contended.png', 'latency.png', 'throughput.png', 'memory.png'):
    shutil.copy(os.path.join(src, f), dst)
bench = open(os.path.join(dst, 'bench.txt')).read().rstrip('\n')
readme = os.path.join(root, 'docs/bench.md')
text = open(readme).read()
text = re.sub(r'(<!-- bench:[^\n]*-->\n```\n).*?(\n```\n<!-- /bench -->)',
              lambda m: m.group(1) + bench + m.group(2), text, flags=re.S)
open(readme, 'w').write(text)
print('docs/bench.md and docs/bench/ updated from build/bench/')
