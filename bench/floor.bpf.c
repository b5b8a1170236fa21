// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Benchmark floor: programs on the events slableak uses that return at once.
 * What they cost is the dispatch every tracer of these events pays; the
 * benchmark reports slableak's cost above it (docs/performance.md). Not part
 * of the product: only bench/floor loads them. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc_floor)
{
	return 0;
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree_floor)
{
	return 0;
}
