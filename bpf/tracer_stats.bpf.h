/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The tracer's per-CPU counters (struct slk_stats, from SLK_TRACER_COUNTERS
 * in slableak.h) and how programs bump them. Self-contained: include it
 * after vmlinux.h and the libbpf helpers. */
#ifndef SLABLEAK_TRACER_STATS_BPF_H
#define SLABLEAK_TRACER_STATS_BPF_H

#include "slableak.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slk_stats);
} stats SEC(".maps");

/* Per-CPU counters are bumped without atomics: a program only nests on its
 * own CPU through another program, and a lost increment in that rare case is
 * cheaper than a locked add on every event. */
#define SLK_COUNT(st, field) ((st)->field++)

static __always_inline struct slk_stats *cpu_stats(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&stats, &zero);
}

#endif
