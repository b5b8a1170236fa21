/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The aggregate table: allocations per (stack, cache, epoch, task) key,
 * where the kernel has the array live table (5.12+, live_table.h).
 *
 * With the live set in the array table, the kernel counts only allocations
 * per aggregate key (userspace counts what is outstanding from the table),
 * once per tracked allocation. In the BPF hash map that count was the
 * largest part of the kmalloc program after the stack: a jhash of the
 * 16-byte key, the bucket and element lines, ~19 ns of a ~125-ns run on the
 * UDP send path (docs/performance.md). Here the table is an array map the
 * verifier inlines lookups into, open addressing by hand, like the live
 * table:
 *
 *  - A key lives in one of SLK_AGG_PROBES slots from its home (a hash of
 *    it), two 32-byte slots to a line. A lookup compares the tag (the hash,
 *    bit 0 set) before the key, and always scans every probe: a slot that
 *    userspace frees needs no tombstone.
 *  - A new key claims a free slot with cmpxchg(tag: 0 -> its tag), then
 *    writes the key. Two CPUs that add the same key at once (or one that
 *    looks while the other is still writing the key) may each take a slot:
 *    userspace sums the slots of a key (userspace/model/agg_slots.h).
 *  - userspace frees the slots of a past epoch with nothing outstanding
 *    (the hash map's delete, BpfTracer::retire): allocs, key, then the tag.
 *
 * Sized by the loader at twice --max-aggregates slots (32 bytes each), so
 * that the keys --max-aggregates allows fit long before the probes run
 * out; a key that finds no slot is dropped and counted (drop_agg_full).
 *
 * Self-contained: include it after vmlinux.h and the libbpf helpers.
 */
#ifndef SLABLEAK_AGG_TABLE_H
#define SLABLEAK_AGG_TABLE_H

#include "slableak.h"

const volatile __u32 agg_slot_count = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slk_agg_slot);
} agg_slots SEC(".maps");

/* The key's second word: stack id, cache, epoch shift and task slot. */
static __always_inline __u64 agg_key_rest(const struct slk_agg_key *k)
{
	return (__u64)k->stack_id | (__u64)k->cache_idx << 32 | (__u64)k->epoch_shift << 48 |
	       (__u64)k->task_slot << 56;
}

static __always_inline __u64 agg_tag(__u64 epoch, __u64 rest)
{
	__u64 h = (epoch * 0x9E3779B97F4A7C15ULL) ^ rest;

	h *= 0xC2B2AE3D27D4EB4FULL;
	return (h ^ (h >> 31)) | 1;
}

static __always_inline bool agg_slot_is(const struct slk_agg_slot *s, __u64 tag, const struct slk_agg_key *k,
					__u64 rest)
{
	return s->tag == tag && s->key.epoch == k->epoch && agg_key_rest(&s->key) == rest;
}

/* The @p-th slot from @home, wrapping at the end of the table. */
static __always_inline __u32 agg_probe(__u32 home, int p)
{
	__u32 i = home + p;

	return i >= agg_slot_count ? i - agg_slot_count : i;
}

/* The allocation count of @k's slot, claimed if it has none; NULL when its
 * probes are all taken by other keys. */
static __always_inline __u64 *agg_allocs_of(const struct slk_agg_key *k)
{
#ifndef SLK_NO_CMPXCHG
	struct slk_agg_slot *s;
	__u64 rest = agg_key_rest(k), tag = agg_tag(k->epoch, rest);
	__u32 home = (__u32)(((tag >> 32) * agg_slot_count) >> 32), i;
	int p;

	for (p = 0; p < SLK_AGG_PROBES; p++) {
		i = agg_probe(home, p);
		s = bpf_map_lookup_elem(&agg_slots, &i);
		if (s && agg_slot_is(s, tag, k, rest))
			return &s->allocs;
	}
	for (p = 0; p < SLK_AGG_PROBES; p++) {
		i = agg_probe(home, p);
		s = bpf_map_lookup_elem(&agg_slots, &i);
		if (!s || s->tag)
			continue;
		if (__sync_val_compare_and_swap(&s->tag, 0, tag) != 0)
			continue; /* another CPU took it first */
		s->key = *k;
		return &s->allocs;
	}
#endif
	return NULL;
}

#endif
