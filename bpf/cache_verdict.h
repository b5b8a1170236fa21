/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Is this kmem_cache one we follow? Answered per kmem_cache pointer, at a
 * cost that does not grow with the number of followed caches (up to
 * SLK_MAX_CACHES = 64, globs and families included).
 *
 *  1. verdict_memo: a direct-mapped table in .bss, one u64 per slot, indexed
 *     by a hash of the pointer. An entry packs the pointer's low 48 bits
 *     (kernel pointers are canonical: the top 16 bits are all ones) and
 *     index + 1 (0: not followed) into one word, so a reader never sees a
 *     torn entry. A hit costs one load and a compare, with no helper call.
 *     Slots are written only while empty: two hot caches that share a slot
 *     do not bounce a cache line between CPUs, the second one just pays (2).
 *  2. cache_verdict: hash map pointer -> index or -1, the complete record.
 *  3. Slow path, once per pointer: read kmem_cache->name, hash it, look the
 *     hash up in name_sel (filled by the loader with the followed caches'
 *     kernel names) and confirm with a full compare against caches[].
 *
 * A kmem_cache destroyed and its memory reused by a new cache of another
 * name would keep the old verdict; caches come and go only with modules.
 *
 * Self-contained: include it after vmlinux.h and the libbpf helpers.
 */
#ifndef SLABLEAK_CACHE_VERDICT_H
#define SLABLEAK_CACHE_VERDICT_H

#include "slableak.h"
#include "tracer_stats.bpf.h"

/* The followed caches, set by the loader before load (the verifier folds
 * them): kernel names, and for kmalloc caches their size class. */
const volatile __u32 n_caches = 0;
const volatile struct slk_cache_sel caches[SLK_MAX_CACHES] = {};

#define SLK_MEMO_BITS 11 /* 2048 slots, 16 KiB: a few hundred caches exist */
#define SLK_PTR_BITS 48

__u64 verdict_memo[1 << SLK_MEMO_BITS] = {};

/* kmem_cache pointer -> followed cache index, or -1 for "not followed". */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __s32);
} cache_verdict SEC(".maps");

/* slk_name_hash(kernel name) -> followed cache index; written by the loader
 * between load and attach. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLK_MAX_CACHES);
	__type(key, __u64);
	__type(value, __s32);
} name_sel SEC(".maps");

static __always_inline __u32 memo_slot(__u64 s)
{
	/* kmem_cache structs are at least 64-byte aligned objects. */
	return (__u32)(((s >> 6) * 0x9E3779B97F4A7C15ULL) >> (64 - SLK_MEMO_BITS));
}

static __always_inline __u64 memo_entry(__u64 s, int idx)
{
	return (s & ((1ULL << SLK_PTR_BITS) - 1)) | ((__u64)(idx + 1) << SLK_PTR_BITS);
}

/* 1: the memo knows @s and *idx is set; 0: ask the hash map. */
static __always_inline int memo_lookup(__u64 s, int *idx)
{
	__u64 e = verdict_memo[memo_slot(s) & ((1 << SLK_MEMO_BITS) - 1)];

	if (!e || ((e ^ s) & ((1ULL << SLK_PTR_BITS) - 1)))
		return 0;
	*idx = (int)(e >> SLK_PTR_BITS) - 1;
	return 1;
}

static __always_inline void memo_store(__u64 s, int idx)
{
	__u64 *e = &verdict_memo[memo_slot(s) & ((1 << SLK_MEMO_BITS) - 1)];

	if (!*e)
		*e = memo_entry(s, idx);
}

/* FNV-1a over the name up to its NUL; the loader computes the same
 * (userspace/model/cache_resolution.cpp slk_name_hash). */
static __always_inline __u64 name_hash(const char *buf)
{
	__u64 h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < SLK_CACHE_NAME_LEN; i++) {
		if (!buf[i])
			break;
		h ^= (__u8)buf[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Slow path: is kmem_cache @s (not seen before) one of ours? */
static __always_inline int name_verdict(struct kmem_cache *s)
{
	char buf[SLK_CACHE_NAME_LEN] = {};
	const char *kname = BPF_CORE_READ(s, name);
	__u64 h;
	__s32 *sel;
	int i, idx;

	if (bpf_probe_read_kernel_str(buf, sizeof(buf), kname) < 0)
		return -1;
	h = name_hash(buf);
	sel = bpf_map_lookup_elem(&name_sel, &h);
	if (!sel)
		return -1;
	idx = *sel;
	if (idx < 0 || idx >= SLK_MAX_CACHES)
		return -1;
	for (i = 0; i < SLK_CACHE_NAME_LEN; i++) {
		if (buf[i] != caches[idx].name[i])
			return -1;
		if (!buf[i])
			break;
	}
	return idx;
}

/* Followed-cache index of kmem_cache @s, or -1. The one place that turns a
 * kmem_cache pointer into a verdict, whichever way the pointer was found. */
static __always_inline int cache_index_of(struct kmem_cache *s, struct slk_stats *st)
{
	__u64 key = (__u64)s;
	__s32 *cached, idx;
	int m;

	if (memo_lookup(key, &m))
		return m;
	cached = bpf_map_lookup_elem(&cache_verdict, &key);
	if (cached) {
		idx = *cached;
	} else {
		SLK_COUNT(st, cache_lookups);
		idx = name_verdict(s);
		bpf_map_update_elem(&cache_verdict, &key, &idx, BPF_ANY);
	}
	memo_store(key, idx);
	return idx;
}

/* Free path: is @s followed? Never names a cache: a pointer never seen
 * allocating since attach cannot own an object we track. */
static __always_inline bool cache_followed(__u64 s)
{
	__s32 *cached;
	int m;

	if (memo_lookup(s, &m))
		return m >= 0;
	cached = bpf_map_lookup_elem(&cache_verdict, &s);
	return cached && *cached >= 0;
}

#endif /* SLABLEAK_CACHE_VERDICT_H */
