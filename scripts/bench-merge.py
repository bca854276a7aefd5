#!/usr/bin/env python3
"""Merge the benchmark output of the baseline and iopf kernels.

Usage: bench-merge.py OUTDIR BASELINE_LOG... -- IOPF_LOG...
Each figure is the median of its value in the logs of its kernel (one log
per boot), each boot's times first scaled to the median speed of all boots
as its calib lines measured it (see scale()).  Prints a line with the
number of runs, then one line per point:
  bench <scenario> <param>=<value> baseline_ns=<x> iopf_ns=<y> ratio=<x/y>
(report, group, contended: also each kernel's floor_ns; contended: also
each kernel's writer_per_s; latency: also the p99s; throughput: _per_s
fields and ratio = iopf/baseline; memory: bytes per partial request and
per in-flight group, and the threads started), then the targets of the
performance issue with their status.  Writes OUTDIR/bench.txt, the .dat
files and PNG plots (gnuplot)."""
import os
import re
import subprocess
import sys

LINE = re.compile(r'iopf_bench: (\w+) (\w+)=(\d+) (.*)$')
ORDER = ['calib', 'report', 'report_busy', 'wake', 'respond', 'group',
         'contended', 'latency', 'throughput', 'memory', 'shared', 'overlap']


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


def median(values):
    return sorted(values)[len(values) // 2]


def scale(runs):
    """Scale each run's times to the median speed of all runs, as its
    calib figures (a fixed loop on CPU 0 and on a workers' CPU) measured
    it: *_ns times the factor, *per_s divided by it, the geometric mean of
    the two CPUs' ratios.  Runs without calib are left as they are, and
    so is overlap, whose time is that of its fixed 300 ms reads, not of
    the CPU."""
    keys = [('calib', 'C', 0), ('calib', 'C', 1)]
    have = [r for r in runs if all(k in r for k in keys)]
    if not have:
        return
    ref = [median([r[k]['ns'] for r in have]) for k in keys]
    for r in have:
        f = 1.0
        for k, rf in zip(keys, ref):
            f *= rf / r[k]['ns']
        f **= 0.5
        for k, fields in r.items():
            if k[0] in ('calib', 'overlap'):
                continue
            for name in fields:
                if name.endswith('ns'):
                    fields[name] = int(round(fields[name] * f))
                elif name.endswith('per_s'):
                    fields[name] = int(round(fields[name] / f))


def load_runs(paths, runs_all):
    """Each figure: the median of its values over the runs that have it."""
    runs = [runs_all[p] for p in paths]
    res = {}
    for k in set().union(*runs):
        have = [r[k] for r in runs if k in r]
        res[k] = {f: median([h[f] for h in have]) for f in have[0]}
    return res, len(runs)


def line(k, b, o):
    s, p, v = k
    head = 'bench %s %s=%d' % (s, p, v)
    if s == 'throughput':
        return '%s baseline_per_s=%d iopf_per_s=%d ratio=%.2f' % (
            head, b['per_s'], o['per_s'], o['per_s'] / b['per_s'])
    if s == 'memory':
        return ('%s baseline_partial_bytes=%d iopf_partial_bytes=%d '
                'baseline_group_bytes=%d iopf_group_bytes=%d '
                'baseline_threads=%d iopf_threads=%d' % (
                    head, b['partial_bytes'], o['partial_bytes'],
                    b['group_bytes'], o['group_bytes'], b['threads'],
                    o['threads']))
    extra = ''
    if s in ('report', 'report_busy', 'contended'):
        extra = ' baseline_floor_ns=%d iopf_floor_ns=%d' % (b['floor_ns'],
                                                            o['floor_ns'])
    if s == 'group':
        extra = ' floor_ns=%d worker_floor_ns=%d' % (o['floor_ns'],
                                                     o['worker_floor_ns'])
    if s == 'contended':
        extra += (' baseline_writer_per_s=%d iopf_writer_per_s=%d'
                  ' baseline_writer_alone_per_s=%d'
                  ' iopf_writer_alone_per_s=%d' % (
                      b['writer_per_s'], o['writer_per_s'],
                      b.get('writer_alone_per_s', 0),
                      o.get('writer_alone_per_s', 0)))
    if s == 'wake':
        extra = ' baseline_run_ns=%d iopf_run_ns=%d' % (b['run_ns'],
                                                       o['run_ns'])
    if s == 'shared':
        extra = ' baseline_answered=%d iopf_answered=%d' % (b['answered'],
                                                           o['answered'])
    if s == 'latency':
        extra = ' baseline_p99_ns=%d iopf_p99_ns=%d p99_ratio=%.2f' % (
            b['p99_ns'], o['p99_ns'], b['p99_ns'] / o['p99_ns'])
    return '%s baseline_ns=%d iopf_ns=%d ratio=%.2f%s' % (
        head, b['ns'], o['ns'], b['ns'] / o['ns'], extra)


def targets(base, ours):
    checks = []

    def get(d, s, v, f='ns'):
        for k in d:
            if k[0] == s and k[2] == v:
                return d[k].get(f)
        return None

    def check(name, ok, detail):
        checks.append('%-4s %s (%s)' % ('MET' if ok else 'MISS', name,
                                        detail))

    worst = None
    for k in sorted(k for k in ours if k[0] == 'report'):
        r = ours[k]['ns'] / ours[k]['floor_ns']
        if worst is None or r > worst[1]:
            worst = (k[2], r)
    if worst:
        check('report <= 1.25x its floor at every P <= 2048',
              worst[1] <= 1.25, 'worst P=%d: %.2fx' % worst)
    b, o = get(base, 'report', 512), get(ours, 'report', 512)
    bf, of = get(base, 'report', 512, 'floor_ns'), \
        get(ours, 'report', 512, 'floor_ns')
    if None not in (b, o, bf, of):
        bx, ox = b - bf, max(o - of, 1)
        check('report - floor at P=512 >= 10x below baseline\'s',
              bx >= 10 * ox, 'baseline %d ns, iopf %d ns: %.1fx' % (
                  b - bf, o - of, bx / ox))
    p1, p2048 = get(ours, 'respond', 1), get(ours, 'respond', 2048)
    b2048 = get(base, 'respond', 2048)
    if None not in (p1, p2048, b2048):
        check('respond flat: P=2048 <= 1.5x P=1', p2048 <= 1.5 * p1,
              '%.2fx' % (p2048 / p1))
        check('respond P=2048 >= 10x cheaper than baseline',
              b2048 >= 10 * p2048, '%.1fx' % (b2048 / p2048))
    o32, f32 = get(ours, 'group', 32), get(ours, 'group', 32, 'floor_ns')
    if None not in (o32, f32):
        check('group F=32 <= 1.2x the handle_mm_fault() floor',
              o32 <= 1.2 * f32, '%.2fx' % (o32 / f32))
    bc, oc = get(base, 'contended', 32), get(ours, 'contended', 32)
    if None not in (bc, oc):
        check('contended F=32 >= 2x cheaper than baseline', bc >= 2 * oc,
              '%.2fx' % (bc / oc))
    for f, name in (('ns', 'p50'), ('p99_ns', 'p99')):
        bl, ol = get(base, 'latency', 1, f), get(ours, 'latency', 1, f)
        if None not in (bl, ol):
            check('latency %s >= 2x lower than baseline' % name,
                  bl >= 2 * ol, '%.2fx' % (bl / ol))
    bt, ot = get(base, 'throughput', 16, 'per_s'), \
        get(ours, 'throughput', 16, 'per_s')
    if None not in (bt, ot):
        check('throughput D=16 >= 1.5x baseline', ot >= 1.5 * bt,
              '%.2fx' % (ot / bt))
    for w, what in ((0, 'mmap_lock held'), (1, 'slow reads')):
        oa = get(ours, 'shared', w, 'answered')
        if oa is not None:
            check('shared: all of B\'s groups answered within 1 s while '
                  'A waits (%s)' % what, oa == 10, '%d of 10' % oa)
    bo, oo = get(base, 'overlap', 8), get(ours, 'overlap', 8)
    if None not in (bo, oo):
        check('overlap: 8 slow faults <= 1.2x baseline (the reads overlap)',
              oo <= 1.2 * bo, '%d ms vs %d ms' % (oo // 1000000,
                                                  bo // 1000000))
    for f, name in (('partial_bytes', 'partial request'),
                    ('group_bytes', 'in-flight group')):
        bm, om = get(base, 'memory', 4096, f), get(ours, 'memory', 4096, f)
        if None not in (bm, om):
            check('memory per %s <= baseline' % name, om <= bm,
                  '%d vs %d bytes' % (om, bm))
    return checks


def plot(out, name, xlabel, ylabel, cols, labels=None):
    """cols: [(column, title)] of OUTDIR/name.dat, column 1 is x.  With
    labels (the names of x = 1, 2, ...), bars side by side; else lines
    on a log2 x axis."""
    dat = os.path.join(out, name + '.dat')
    if not os.path.getsize(dat):
        return  # a scenario BENCH_ONLY left out: no plot
    if labels:
        w = 0.8 / len(cols)
        series = ', '.join(
            '"%s" u ($1%+.2f):%d w boxes t "%s"' %
            (dat, (i - (len(cols) - 1) / 2) * w, c, t)
            for i, (c, t) in enumerate(cols))
        axes = ('set boxwidth %.2f; set style fill solid 0.6; '
                'set xrange [0.5:%.1f]; set xtics (%s);' % (
                    w * 0.9, len(labels) + 0.5,
                    ', '.join('"%s" %d' % (l, i + 1)
                              for i, l in enumerate(labels))))
    else:
        series = ', '.join('"%s" u 1:%d w lp t "%s"' % (dat, c, t)
                           for c, t in cols)
        axes = 'set logscale x 2;'
    cmd = ('set terminal png size 800,500 noenhanced; set output "%s";'
           '%s set xlabel "%s"; set ylabel "%s"; set yrange [0:*];'
           'set title "%s: upstream 6.1 vs iopf (QEMU TCG, 2 CPUs)";'
           'set key left; plot %s' % (
               os.path.join(out, name + '.png'), axes, xlabel, ylabel,
               name, series))
    try:
        subprocess.run(['gnuplot', '-e', cmd], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print('bench: gnuplot failed: %s' % e)


def write(out, name, rows):
    with open(os.path.join(out, name + '.dat'), 'w') as f:
        for r in rows:
            f.write(' '.join(map(str, r)) + '\n')


def plots(base, ours, keys, out):
    def rows(s, *fields):
        return [[k[2]] + [d[k][f] for d, f in fields]
                for k in keys if k[0] == s]

    write(out, 'report', rows('report', (base, 'ns'), (ours, 'ns'),
                              (base, 'floor_ns'), (ours, 'floor_ns')))
    plot(out, 'report', 'P (partial requests outstanding)', 'ns per report',
         [(2, 'baseline (upstream)'), (3, 'iopf'),
          (4, 'floor, baseline kernel'), (5, 'floor, iopf kernel')])
    write(out, 'respond', rows('respond', (base, 'ns'), (ours, 'ns')))
    plot(out, 'respond', 'P (reports pending)', 'ns per answer',
         [(2, 'baseline (upstream)'), (3, 'iopf')])
    write(out, 'group', rows('group', (base, 'ns'), (ours, 'ns'),
                             (ours, 'floor_ns'), (ours, 'worker_floor_ns')))
    plot(out, 'group', 'F (faults per group)', 'ns per fault',
         [(2, 'baseline (upstream)'), (3, 'iopf'),
          (4, 'floor (handle_mm_fault), reporting CPU'),
          (5, 'floor, workers\' CPU')])
    write(out, 'throughput', rows('throughput', (base, 'per_s'),
                                  (ours, 'per_s')))
    plot(out, 'throughput', 'D (devices)', 'groups per second',
         [(2, 'baseline (upstream)'), (3, 'iopf')])
    # One-point scenarios: bars, x = 1 baseline, 2 iopf, 3 floor.
    k = [x for x in keys if x[0] == 'contended']
    if k:
        b, o = base[k[0]], ours[k[0]]
        write(out, 'contended', [[1, b['ns']], [2, o['ns']],
                                 [3, o['floor_ns']]])
        plot(out, 'contended', 'F=32 while a thread maps and unmaps',
             'ns per fault', [(2, 'ns per fault')],
             labels=['baseline (upstream)', 'iopf',
                     'floor (handle_mm_fault)'])
    k = [x for x in keys if x[0] == 'latency']
    if k:
        b, o = base[k[0]], ours[k[0]]
        write(out, 'latency', [[1, b['ns'], b['p99_ns']],
                               [2, o['ns'], o['p99_ns']]])
        plot(out, 'latency', 'one fault, report to answer', 'ns',
             [(2, 'p50'), (3, 'p99')],
             labels=['baseline (upstream)', 'iopf'])
    k = [x for x in keys if x[0] == 'memory']
    if k:
        b, o = base[k[0]], ours[k[0]]
        write(out, 'memory', [[1, b['partial_bytes'], b['group_bytes']],
                              [2, o['partial_bytes'], o['group_bytes']]])
        plot(out, 'memory', '4096 of each outstanding', 'slab bytes',
             [(2, 'per partial request'), (3, 'per in-flight group')],
             labels=['baseline (upstream)', 'iopf'])


def main():
    out, args = sys.argv[1], sys.argv[2:]
    sep = args.index('--')
    runs_all = {p: load(p) for p in args if p != '--'}
    scale(list(runs_all.values()))
    (base, nb) = load_runs(args[:sep], runs_all)
    (ours, no) = load_runs(args[sep + 1:], runs_all)
    keys = [k for k in base if k in ours]
    keys.sort(key=lambda k: (ORDER.index(k[0]), k[2]))
    lines = [line(k, base[k], ours[k]) for k in keys]
    text = ('runs: baseline %d, iopf %d (each figure: the median of the runs,'
            ' each run scaled to the median speed of all by its calib loop)\n'
            % (nb, no)) + '\n'.join(lines) + '\n\nTargets:\n' + \
        '\n'.join(targets(base, ours)) + '\n'
    print(text, end='')
    with open(os.path.join(out, 'bench.txt'), 'w') as f:
        f.write(text)
    plots(base, ours, keys, out)


if __name__ == '__main__':
    main()
