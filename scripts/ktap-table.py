#!/usr/bin/env python3
"""Turn a kernel log holding KTAP results into a table of leaf cases.

Usage: ktap-table.py LOG [--quiet] [--expect TABLE [--have DIR]]
                    [--ignore REGEX]
Prints one line per case (parameterised cases: one per parameter), then
'N passed, M failed' (M includes a missing or crashed run).  With --expect,
every case listed in TABLE (an earlier output of this script) that has no
result in LOG is reported as CRASH (the kernel died before it finished).
With --have, such a case whose function no KUNIT_CASE*() of DIR/*.c names
(the tested kernel's suites do not have it) is reported as ABSENT instead,
counted apart ('K not in these suites') and not as a failure.
Kernel reports (BUG:, WARNING:...) fail the run, but for lines matching
--ignore's REGEX (test-kcsan counts its data-race reports itself).  Exit status:
0 when M == 0 and at least one case ran.
"""
import glob
import os
import re
import sys

RESULT = re.compile(r'^(\s*)(not ok|ok) (\d+)(?: -)? ([^#]*?)\s*(#.*)?$')


def parse(lines):
    """Return the leaf results as (parent, name, ok, directive), in order."""
    stack = []          # (indent, record) of results not yet adopted
    headers = {}        # indent -> name of the last '# Subtest:' there
    for raw in lines:
        line = raw.rstrip('\n')
        # kunit.py's raw output may prefix timestamps: strip '[   1.23] '
        line = re.sub(r'^\[\s*[0-9.]+\]\s?', '', line)
        h = re.match(r'^(\s*)# Subtest: (\S+)', line)
        if h:
            headers[len(h.group(1).expandtabs(8))] = h.group(2)
            continue
        m = RESULT.match(line)
        if not m:
            continue
        indent = len(m.group(1).expandtabs(8))
        rec = {'name': m.group(4).strip(), 'ok': m.group(2) == 'ok',
               'parent': headers.get(indent, ''),
               'directive': (m.group(5) or '').strip(), 'children': []}
        while stack and stack[-1][0] > indent:
            rec['children'].insert(0, stack.pop()[1])
        stack.append((indent, rec))

    leaves = []

    def walk(rec, parent):
        if not rec['children']:
            leaves.append((parent, rec['name'], rec['ok'], rec['directive']))
        for c in rec['children']:
            walk(c, rec['name'])

    # What is left are the top-level results, or the results of a suite
    # whose run ended early (a crash): those get the name of their suite
    # from its '# Subtest:' header.
    for _, rec in stack:
        walk(rec, rec['parent'])
    return leaves


def cases_in(directory):
    """The case functions named by KUNIT_CASE*() in DIRECTORY/*.c."""
    names = set()
    for path in glob.glob(os.path.join(directory, '*.c')):
        with open(path, errors='replace') as f:
            names.update(re.findall(r'KUNIT_CASE\w*\(\s*(\w+)', f.read()))
    return names


def main():
    log = sys.argv[1]
    quiet = '--quiet' in sys.argv
    expect = []
    if '--expect' in sys.argv:
        with open(sys.argv[sys.argv.index('--expect') + 1]) as f:
            for line in f:
                m = re.match(r'^(\S+\.\S+)\s+(PASS|FAIL|SKIP|CRASH)$', line)
                if m:
                    expect.append(m.group(1))
    have = None
    if '--have' in sys.argv:
        have = cases_in(sys.argv[sys.argv.index('--have') + 1])
    with open(log, errors='replace') as f:
        lines = f.readlines()
    leaves = parse(lines)
    seen = set(p + '.' + c for p, c, _, _ in leaves)
    for name in expect:
        if name not in seen:
            parent, case = name.split('.', 1)
            # A leaf is a case of a suite, or a parameter of a case.
            gone = have is not None and case not in have and \
                parent not in have
            leaves.append((parent, case, False,
                           'ABSENT' if gone else 'CRASH'))
    passed = failed = skipped = absent = 0
    width = max([len(p + '.' + c) for p, c, _, _ in leaves] + [20])
    if not quiet:
        print('%-*s  %s' % (width, 'case', 'result'))
        print('-' * (width + 8))
    for parent, case, ok, directive in leaves:
        if directive == 'ABSENT':
            res = 'ABSENT'
            absent += 1
        elif directive == 'CRASH':
            res = 'CRASH'
            failed += 1
        elif 'SKIP' in directive:
            res = 'SKIP'
            skipped += 1
        elif ok:
            res = 'PASS'
            passed += 1
        else:
            res = 'FAIL'
            failed += 1
        if not quiet:
            print('%-*s  %s' % (width, parent + '.' + case, res))
    ignore = None
    if '--ignore' in sys.argv:
        ignore = re.compile(sys.argv[sys.argv.index('--ignore') + 1])
    crashed = any(re.search(r'Kernel panic|BUG:|Oops|KASAN:|WARNING:', l) and
                  not (ignore and ignore.search(l)) for l in lines)
    if not leaves or (crashed and not expect):
        failed += 1
        print('error: %s' % ('no KUnit results' if not leaves
                             else 'the kernel reported a BUG/WARNING/panic'))
    elif crashed:
        print('note: the kernel reported a BUG/WARNING/panic (see the log)')
    if skipped:
        print('%d skipped' % skipped)
    if absent:
        print('%d not in these suites' % absent)
    print('%d passed, %d failed' % (passed, failed))
    sys.exit(0 if failed == 0 else 1)


if __name__ == '__main__':
    main()
