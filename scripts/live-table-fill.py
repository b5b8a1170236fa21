#!/usr/bin/env python3
"""How full the live table (bpf/live_table.h) gets before it refuses inserts.

Simulates its insert policy with uniform random addresses and no frees:
N slots in buckets of WAYS, each address probing PROBES buckets from its home
with its own stride (double hashing). Prints the fill at the first refused
insert and when 0.1%, 1% and 10% of inserts so far were refused. Not a test:
docs/performance.md quotes its output.
  scripts/live-table-fill.py [N] [WAYS] [PROBES]     (200000 7 4)
"""
import random
import sys

n, ways, probes = (int(a) for a in (sys.argv[1:] + ["200000", "7", "4"][len(sys.argv) - 1:])[:3])
random.seed(1)
buckets = (n + ways - 1) // ways
used = [0] * buckets
held = refused = 0
first, marks = None, {}
while held < n and refused < n // 2:
    home, stride = random.randrange(buckets), random.randrange(1, max(buckets, 2))
    for j in range(probes):
        b = (home + j * stride) % buckets
        if used[b] < min(ways, n - b * ways):
            used[b] += 1
            held += 1
            break
    else:
        refused += 1
        first = held if first is None else first
    for f in (0.001, 0.01, 0.1):
        if f not in marks and held + refused > 1000 and refused >= f * (held + refused):
            marks[f] = held
print("slots %d, %d-way buckets, %d probes: first refused at %.1f%% full; %s" % (
    n, ways, probes, 100.0 * (first or held) / n,
    ", ".join("%.1f%% of inserts refused by %.1f%% full" % (100 * f, 100.0 * v / n) for f, v in sorted(marks.items()))))
