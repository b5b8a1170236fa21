/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The live set: object address -> struct slk_live, for every tracked object.
 *
 * Every tracked allocation inserts here and every tracked free takes its
 * entry out, so this table is most of what exact mode costs. A preallocated
 * BPF hash map pays, per insert, a jhash, a bucket spin lock and a trip to
 * the per-CPU free list, and per free a lookup and a delete that do it all
 * again (~55 ns to insert, ~160 to take out, docs/performance.md), and 110
 * bytes of kernel memory per entry (48 of them the kernel's htab_elem).
 *
 * So on kernels with BPF compare-and-exchange (5.12+) the table is two
 * array maps the verifier inlines lookups into, open addressing by hand:
 *
 *  - live_keys: buckets of SLK_LIVE_WAYS addresses, one 64-byte line each
 *    (mmapable, so the array's data starts on a page and no bucket
 *    straddles two lines). A key is claimed by cmpxchg(0 -> address) and
 *    released by cmpxchg(address -> 0): no locks, so a program nested on the
 *    same CPU (a free in the softirq of an allocation) cannot deadlock.
 *  - live_vals: the value of key slot b * SLK_LIVE_WAYS + i, apart from the
 *    keys, so that a lookup reads one line of keys only.
 *  - An address lives in its home bucket (a multiplicative hash of it) or,
 *    when that is full, in one of the next SLK_LIVE_PROBES - 1 along its
 *    probe sequence (a stride from a second hash of it). A bucket's
 *    `passed` counts the entries that went past it, so a lookup stops at
 *    the first bucket nothing went past: one line for almost every lookup,
 *    present or not.
 *
 * The value is written after its key is claimed and read before its key is
 * released. No program can see it half-written: the only ones that read it
 * are the free of the same address (which cannot run before its allocation
 * event returns) and the implicit-free check of the next allocation of the
 * same address (which comes after a free). Userspace reads the table in
 * place to count what is outstanding (userspace/model/live_tally.h); for
 * the instant between a claim and its value's store it may read the slot's
 * previous value, an error of one object that the next read does not have.
 *
 * Sizing (bpf_tracer.cpp): one slot per --max-tracked entry, so that it
 * stays a true maximum; 1M entries take 24 MiB (24 bytes a slot). Near
 * full, an address whose SLK_LIVE_PROBES buckets are all taken is dropped
 * (counted as live_map_full) before the table holds them all: see
 * live_stride() for how early. SLK_LIVE_PROBES 8 would push that to ~73%
 * and ~96% (simulated), but nearly doubled the verifier's time (attach
 * ~185 ms instead of ~100-120 on 6.18).
 *
 * Kernels without BPF_CMPXCHG (5.10, 5.11) cannot even load an object that
 * contains one, so the object built with SLK_NO_CMPXCHG keeps the hash map;
 * both objects carry all three maps, and the loader shrinks the unused ones
 * to one entry.
 *
 * Self-contained: include it after vmlinux.h and the libbpf helpers.
 */
#ifndef SLABLEAK_LIVE_TABLE_H
#define SLABLEAK_LIVE_TABLE_H

#include "slableak.h"

/* SLK_LIVE_WAYS and SLK_LIVE_PROBES are in slableak.h: the loader sizes
 * the maps by them. */

struct slk_live_bucket {
	__u64 key[SLK_LIVE_WAYS]; /* object addresses; 0: free slot */
	__u32 passed;             /* entries placed beyond this bucket */
	__u32 pad;
};

/* Buckets in live_keys, and the slots of them in use: --max-tracked, so
 * that it stays a true maximum (set by the loader; the verifier folds it). */
const volatile __u32 live_buckets = 1;
const volatile __u32 live_slots = SLK_LIVE_WAYS;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 20); /* --max-tracked, or 1 where unused */
	__type(key, __u64);
	__type(value, struct slk_live);
} live SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slk_live_bucket);
} live_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slk_live);
} live_vals SEC(".maps");

#ifdef SLK_NO_CMPXCHG
#define slk_live_array 0
#else
#define slk_live_array 1
#endif

static __always_inline __u32 live_home(__u64 ptr)
{
	/* Objects are size-aligned: the multiply moves every bit of the
	 * address into the top half, and the top 32 bits scale onto the
	 * buckets without a division. */
	__u64 h = (ptr * 0x9E3779B97F4A7C15ULL) >> 32;

	return (__u32)((h * live_buckets) >> 32);
}

/* The stride of @ptr's probe sequence, in [1, live_buckets - 1] (1 for one
 * bucket): double hashing, so that addresses whose home buckets neighbour
 * do not pile up along one run of buckets. Simulated with uniform
 * addresses, one slot per entry (scripts/live-table-fill.py): the first
 * insert is refused at ~57% full (~49% with stride 1), 1% of inserts by
 * 88% full (79%). */
static __always_inline __u32 live_stride(__u64 ptr)
{
	__u64 h = (ptr * 0xC2B2AE3D27D4EB4FULL) >> 32;

	return live_buckets > 1 ? 1 + (__u32)((h * (live_buckets - 1)) >> 32) : 1;
}

static __always_inline __u32 live_next(__u32 b, __u32 stride)
{
	__u32 n = b + stride;

	return n >= live_buckets ? n - live_buckets : n;
}

/* Undo the `passed` marks of an entry placed @dist probes past @home. */
static __always_inline void live_unpass(__u32 home, __u32 stride, __u32 dist)
{
	struct slk_live_bucket *bk;
	__u32 b = home;
	int j;

	for (j = 0; j < SLK_LIVE_PROBES - 1; j++) {
		if (j >= dist)
			break;
		bk = bpf_map_lookup_elem(&live_keys, &b);
		if (bk)
			__sync_fetch_and_add(&bk->passed, -1);
		b = live_next(b, stride);
	}
}

/* Inserts @ptr -> @e; @ptr must not be in the table (the caller retired
 * any earlier entry of the address). Returns 0, or -1 when full. */
static __always_inline int live_insert(__u64 ptr, const struct slk_live *e)
{
	struct slk_live_bucket *bk;
	struct slk_live *v;
	__u32 home, b, s, stride;
	int i, j;

	if (!slk_live_array)
		return bpf_map_update_elem(&live, &ptr, e, BPF_ANY) ? -1 : 0;
	home = b = live_home(ptr);
	stride = live_stride(ptr);
	for (j = 0; j < SLK_LIVE_PROBES; j++) {
		bk = bpf_map_lookup_elem(&live_keys, &b);
		if (!bk)
			break;
		for (i = 0; i < SLK_LIVE_WAYS; i++) {
			s = b * SLK_LIVE_WAYS + i;
			if (bk->key[i] || s >= live_slots)
				continue;
#ifndef SLK_NO_CMPXCHG
			if (__sync_val_compare_and_swap(&bk->key[i], 0, ptr) != 0)
				continue; /* another CPU took it first */
#endif
			v = bpf_map_lookup_elem(&live_vals, &s);
			if (v)
				*v = *e;
			return 0;
		}
		/* Full: mark it before moving on, so that a lookup of this
		 * entry does not stop here. */
		if (j < SLK_LIVE_PROBES - 1)
			__sync_fetch_and_add(&bk->passed, 1);
		b = live_next(b, stride);
	}
	live_unpass(home, stride, j < SLK_LIVE_PROBES - 1 ? j : SLK_LIVE_PROBES - 1);
	return -1;
}

/* Takes @ptr's entry out of the table into @out. Returns true if this call
 * removed it (false: not tracked, or another CPU took it first). */
static __always_inline bool live_take(__u64 ptr, struct slk_live *out)
{
	struct slk_live_bucket *bk;
	struct slk_live *v;
	__u32 home, b, s, stride;
	int i, j;

	if (!slk_live_array) {
		v = bpf_map_lookup_elem(&live, &ptr);
		if (!v)
			return false;
		*out = *v;
		return bpf_map_delete_elem(&live, &ptr) == 0;
	}
	home = b = live_home(ptr);
	stride = live_stride(ptr);
	for (j = 0; j < SLK_LIVE_PROBES; j++) {
		bk = bpf_map_lookup_elem(&live_keys, &b);
		if (!bk)
			return false;
		for (i = 0; i < SLK_LIVE_WAYS; i++) {
			if (bk->key[i] != ptr)
				continue;
			s = b * SLK_LIVE_WAYS + i;
			v = bpf_map_lookup_elem(&live_vals, &s);
			if (!v)
				return false;
			*out = *v;
#ifndef SLK_NO_CMPXCHG
			if (__sync_val_compare_and_swap(&bk->key[i], ptr, 0) != ptr)
				return false;
#endif
			live_unpass(home, stride, j);
			return true;
		}
		if (!bk->passed)
			return false; /* nothing went past: it is not further on */
		b = live_next(b, stride);
	}
	return false;
}

#endif
