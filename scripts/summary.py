#!/usr/bin/env python3
"""Summarise a boot of the iopf kernel: KUnit suites, torture, demo.

Usage: summary.py LOG TABLE [--demo]
LOG is the kernel log (KUnit output, then the demo's), TABLE the output of
ktap-table.py for it.  Prints one screen: results per suite, the torture
line, the demo's steps, the handler's statistics and latency histogram for
the demo, and the failed faults.  With --demo, exit status 1 when the demo
did not run to its end or a step failed.
"""
import re
import sys


def strip(line):
    return re.sub(r'^\[\s*[0-9.]+\]\s?', '', line.rstrip('\n'))


def main():
    log = [strip(x) for x in open(sys.argv[1], errors='replace')]
    table = [x.rstrip('\n') for x in open(sys.argv[2])]
    need_demo = '--demo' in sys.argv[3:]

    # Suites have a plan line ('1..N') after their '# Subtest:' line;
    # parameterised cases do not.  The rows of a parameterised case are
    # named after the case: find its suite from the log.
    names, case_suite, cur = set(), {}, ''
    for i, x in enumerate(log[:-1]):
        m = re.match(r'\s*# Subtest: (\S+)', x)
        if m and re.match(r'\s*1\.\.\d+', log[i + 1]):
            names.add(m.group(1))
            cur = m.group(1)
            continue
        m = re.match(r'\s*(?:not )?ok \d+ (\S+)', x)
        if m and m.group(1) not in names and cur:
            case_suite.setdefault(m.group(1), cur)
    suites = {}
    for row in table:
        f = row.split()
        if len(f) >= 2 and f[-1] in ('PASS', 'FAIL', 'SKIP', 'CRASH'):
            p = f[0].split('.')[0]
            s = suites.setdefault(p if p in names else
                                  case_suite.get(p, p), {
                                      'PASS': 0, 'FAIL': 0, 'SKIP': 0,
                                      'CRASH': 0})
            s[f[-1]] += 1
    print('KUnit suites')
    for name, s in suites.items():
        print('  %-16s %3d passed %3d failed %3d skipped%s' % (
            name, s['PASS'], s['FAIL'] + s['CRASH'], s['SKIP'],
            '  (%d crashed)' % s['CRASH'] if s['CRASH'] else ''))
    print('  ' + (table[-1] if table else 'no results'))

    torture = [x for x in log if 'torture: groups=' in x]
    if torture:
        print('\nTorture')
        print('  ' + re.sub(r'^.*?(torture: )', r'\1', torture[-1]))

    demo = [x[len('demo: '):] for x in log if x.startswith('demo: ')]
    ok = False
    if demo:
        print('\nDemo (user space, /dev/iopf-mock)')
        for d in demo:
            print('  ' + d)
        ends = [m for m in (re.match(r'(\d+) ok, (\d+) failed$', d)
                            for d in demo) if m]
        ok = bool(ends) and ends[-1].group(2) == '0'
    elif need_demo:
        print('\nDemo: did not run (no "demo:" lines in %s)' % sys.argv[1])
    if need_demo and not ok:
        print('demo: FAILED')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
