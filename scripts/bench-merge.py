#!/usr/bin/env python3
"""Merge the benchmark output of the baseline and iopf kernels.

Usage: bench-merge.py BASELINE_LOG IOPF_LOG OUTDIR
Prints one line per point:
  bench <scenario> <param>=<value> baseline_ns=<x> iopf_ns=<y> ratio=<x/y>
(group: also floor_ns; latency: also p99; throughput: _per_s fields and
ratio = iopf/baseline), then the targets of the performance issue with
their status.  Writes OUTDIR/bench.txt, the .dat files and PNG plots
(gnuplot)."""
import os
import re
import subprocess
import sys

LINE = re.compile(r'iopf_bench: (\w+) (\w+)=(\d+) (.*)$')


def load(path):
    res = {}
    for line in open(path, errors='replace'):
        m = LINE.search(line)
        if not m:
            continue
        fields = dict(kv.split('=') for kv in m.group(4).split())
        res[(m.group(1), m.group(2), int(m.group(3)))] = \
            {k: int(v) for k, v in fields.items()}
    return res


def main():
    base, ours, out = load(sys.argv[1]), load(sys.argv[2]), sys.argv[3]
    lines = []
    keys = [k for k in base if k in ours]
    order = ['report', 'respond', 'group', 'latency', 'throughput']
    keys.sort(key=lambda k: (order.index(k[0]), k[2]))
    for k in keys:
        b, o = base[k], ours[k]
        s, p, v = k
        if s == 'throughput':
            lines.append('bench %s %s=%d baseline_per_s=%d iopf_per_s=%d '
                         'ratio=%.2f' % (s, p, v, b['per_s'], o['per_s'],
                                         o['per_s'] / b['per_s']))
            continue
        extra = ''
        if s == 'group':
            extra = ' floor_ns=%d' % o['floor_ns']
        if s == 'latency':
            extra = ' baseline_p99_ns=%d iopf_p99_ns=%d' % (b['p99_ns'],
                                                          o['p99_ns'])
        lines.append('bench %s %s=%d baseline_ns=%d iopf_ns=%d ratio=%.2f%s'
                     % (s, p, v, b['ns'], o['ns'], b['ns'] / o['ns'], extra))

    def get(d, s, v, f='ns'):
        for k in d:
            if k[0] == s and k[2] == v:
                return d[k][f]
        return None

    checks = []

    def check(name, ok, detail):
        checks.append('%-4s %s (%s)' % ('MET' if ok else 'MISS', name, detail))

    for s in ('report', 'respond'):
        p1, p2048 = get(ours, s, 1), get(ours, s, 2048)
        b512, o512 = get(base, s, 512), get(ours, s, 512)
        if None not in (p1, p2048, b512, o512):
            check('%s flat: P=2048 <= 1.5x P=1' % s, p2048 <= 1.5 * p1,
                  '%.2fx' % (p2048 / p1))
            check('%s P=512 >= 10x cheaper than baseline' % s,
                  b512 >= 10 * o512, '%.1fx' % (b512 / o512))
    o32, f32, b32 = get(ours, 'group', 32), get(ours, 'group', 32,
                                               'floor_ns'), \
        get(base, 'group', 32)
    if None not in (o32, f32, b32):
        check('group F=32 <= 1.2x floor', o32 <= 1.2 * f32,
              '%.2fx' % (o32 / f32))
        check('group F=32 >= 1.5x cheaper than baseline', b32 >= 1.5 * o32,
              '%.2fx' % (b32 / o32))
    bl, ol = get(base, 'latency', 1), get(ours, 'latency', 1)
    if None not in (bl, ol):
        check('latency median no worse than baseline', ol <= bl,
              'ratio %.2f' % (bl / ol))
    bt, ot = get(base, 'throughput', 16, 'per_s'), \
        get(ours, 'throughput', 16, 'per_s')
    if None not in (bt, ot):
        check('throughput D=16 >= baseline', ot >= bt,
              'ratio %.2f' % (ot / bt))

    text = '\n'.join(lines) + '\n\nTargets:\n' + '\n'.join(checks) + '\n'
    print(text, end='')
    with open(os.path.join(out, 'bench.txt'), 'w') as f:
        f.write(text)

    # Plots: cost vs P (report, respond) and per-fault cost vs F (group).
    for s, p in (('report', 'P'), ('respond', 'P'), ('group', 'F')):
        dat = os.path.join(out, s + '.dat')
        with open(dat, 'w') as f:
            for k in keys:
                if k[0] == s:
                    row = [k[2], base[k]['ns'], ours[k]['ns']]
                    if s == 'group':
                        row.append(ours[k]['floor_ns'])
                    f.write(' '.join(map(str, row)) + '\n')
        plot = ('set terminal png size 800,500; set output "%s";'
                'set logscale x 2; set xlabel "%s"; set ylabel "ns%s";'
                'set title "%s: upstream 6.1 vs iopf (QEMU TCG)"; set key left;'
                'plot "%s" u 1:2 w lp t "baseline (upstream)", '
                '"%s" u 1:3 w lp t "iopf"' %
                (os.path.join(out, s + '.png'), p,
                 ' per fault' if s == 'group' else '', s, dat, dat))
        if s == 'group':
            plot += ', "%s" u 1:4 w lp t "floor (handle_mm_fault)"' % dat
        try:
            subprocess.run(['gnuplot', '-e', plot], check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            print('bench: gnuplot failed: %s' % e)


if __name__ == '__main__':
    main()
