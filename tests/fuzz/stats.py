#!/usr/bin/env python3
"""Prints the markdown table of tests/fuzz/README.md from the logs `make
fuzz` leaves in build/fuzz/log-NAME.txt: executions, executions per
second and peak RSS (libFuzzer's -print_final_stats), and cov/ft/corpus
from its last status line (DONE, or the last pulse/NEW/REDUCE line of a
run stopped early, marked "partial"). A harness that stopped on a crash
says so. Run: python3 tests/fuzz/stats.py [build/fuzz]"""
import glob
import os
import re
import sys


def row(path):
    name = os.path.basename(path)[len('log-'):-len('.txt')]
    with open(path, 'rb') as f:
        text = f.read().decode('utf-8', 'replace')
    stat = dict(re.findall(r'stat::(\w+):\s+(\d+)', text))
    status = [l for l in text.splitlines() if re.match(r'#\d+\s+(DONE|pulse|NEW|REDUCE|INITED)', l)]
    last = status[-1] if status else ''
    m = re.search(r'#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)', last)
    crashed = re.search(r'(ERROR: \w+Sanitizer|runtime error|deadly signal|Test unit written to \S+)', text)
    execs = int(stat.get('number_of_executed_units', m.group(1) if m else 0))
    done = bool(m and m.group(2) == 'DONE')
    rate = stat.get('average_exec_per_sec', '?')
    if not stat and m:  # stopped before the final stats: rate from the status line
        r = re.search(r'exec/s: (\d+)', last)
        rate = r.group(1) if r else '?'
    state = 'crash: ' + crashed.group(1) if crashed else ('done' if done else 'partial (stopped)')
    return '| %s | %s | %s | %s | %s | %s | %s | %s |' % (
        name, '{:,}'.format(execs), rate, m.group(3) if m else '?', m.group(4) if m else '?',
        '%s files, %s' % (m.group(5), m.group(6)) if m else '?',
        stat.get('peak_rss_mb', '?') + ' MB' if 'peak_rss_mb' in stat else '?', state)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else 'build/fuzz'
    print('| harness | executions | exec/s | cov | ft | corpus at the end | peak RSS | result |')
    print('|---|---:|---:|---:|---:|---|---:|---|')
    for p in sorted(glob.glob(os.path.join(d, 'log-*.txt'))):
        print(row(p))


if __name__ == '__main__':
    main()
