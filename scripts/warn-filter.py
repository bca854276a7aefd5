#!/usr/bin/env python3
"""Print the compiler/sparse warnings of a build log that concern our code.

Usage: warn-filter.py LOG TREE FILE...
A warning counts when it is in one of FILE (ours, whole), or on a line of
an upstream file that the series (base..iopf in TREE) added or changed.
Exit status 1 when any warning counts."""
import re
import subprocess
import sys

log, tree, ours = sys.argv[1], sys.argv[2], set(sys.argv[3:])
diff = subprocess.run(['git', '-C', tree, 'diff', '-U0', 'base', 'iopf'],
                      capture_output=True, text=True).stdout
changed = {}
cur = None
for line in diff.splitlines():
    if line.startswith('+++ b/'):
        cur = line[6:]
    m = re.match(r'@@ -\S+ \+(\d+)(?:,(\d+))? @@', line)
    if m and cur:
        start, n = int(m.group(1)), int(m.group(2) or 1)
        changed.setdefault(cur, set()).update(range(start, start + n))

bad = 0
for line in open(log, errors='replace'):
    m = re.search(r'(?:^|/)((?:drivers|lib|include)/[^:\s]+):(\d+):(?:\d+:)?\s*'
                  r'(warning|error)', line)
    if not m:
        continue
    path, lineno = m.group(1), int(m.group(2))
    if path in ours or lineno in changed.get(path, ()):
        print(line.rstrip())
        bad += 1
sys.exit(1 if bad else 0)
