// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* slableak: keep the live set of allocations in selected slab caches and a
 * per (stack, cache, epoch) summary of it, entirely in the kernel.
 *
 * Cost model (measured on the dev VMs, see docs/performance.md): a stack
 * capture is ~750 ns, a hash insert ~80 ns, a lookup or delete 30-40 ns, an
 * empty program ~35 ns per event. So every event first pays only for cheap
 * rejects: the size class, then the sampling countdown, and only a sampled
 * allocation has its cache named and its stack taken. Frees (and the
 * implicit-free check on allocation) consult a small counting filter of the
 * tracked addresses before they touch the live map: most frees are of
 * objects we do not track, and they return after one array read. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "slableak.h"
#include "core_shims.h"
#include "tracer_stats.bpf.h"
#include "stack_cache.h"
#include "cache_verdict.h"
#include "task_filter.h"
#include "slab_walk.h"
#include "task_key.h"
#include "live_table.h"
#include "agg_table.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Knobs, set by the loader before load; the verifier folds them (the
 * followed caches themselves are in cache_verdict.h). */
const volatile __u32 req_lo_min = 0; /* union of the selected size classes */
const volatile __u32 req_hi_max = 0;
const volatile __u32 sample_every = 1;
const volatile __u32 filter_bits = 18; /* log2(live_filter slots), >= 4 */
/* The kernel has kmalloc-cg-* caches (5.14+); before, accounted kmallocs
 * share the plain kmalloc-* caches. Derived method only. */
const volatile bool cg_caches = true;

/* The pseudo cache kmalloc-large: its followed-cache index (-1: not
 * followed) and the largest kmalloc cache's size. A kmalloc asking for more
 * is served by the page allocator (kmalloc_large / kmalloc_order), has no
 * kmem_cache (the kfunc and the slab walk would find none), and its event
 * reports bytes_alloc = PAGE_SIZE << order on every kernel we run on. */
const volatile __s32 large_idx = -1;
const volatile __u32 large_above = 0xffffffff;

/* Changed by userspace while running: the epoch width grows with run time. */
volatile __u32 epoch_shift = 30;
/* Set by the loader where kmem_cache_alloc passes the cache (6.0+, see
 * named_alloc_cache()). */
const volatile bool alloc_event_has_cache = false;

/*
 * The kfunc is built in twice: this object with the weak extern (loaded where
 * vmlinux has the kfunc, 6.13+), and slableak_nokfunc.bpf.o (SLK_NO_KFUNC)
 * without any extern, loaded everywhere else. Even a weak kfunc extern that
 * vmlinux lacks makes libbpf (Debian 12's 1.1) look it up in the module BTFs,
 * which needs CAP_SYS_ADMIN (BPF_BTF_GET_NEXT_ID): under the systemd unit's
 * CAP_BPF + CAP_PERFMON the load failed on every kernel before 6.13 (found by
 * scripts/deploy-test.sh on Debian 12's own 6.1).
 */
#ifndef SLK_NO_KFUNC
extern struct kmem_cache *bpf_get_kmem_cache(__u64 addr) __ksym __weak;
#define slk_have_kmem_cache_kfunc() slk_ksym_exists(bpf_get_kmem_cache)
#else
static __always_inline struct kmem_cache *bpf_get_kmem_cache(__u64 addr) { return NULL; }
#define slk_have_kmem_cache_kfunc() 0
#endif

/* Counting filter over the live map's keys: slot h(ptr) counts the tracked
 * addresses that hash there. Incremented before an insert, decremented only
 * after a delete that succeeded, so a slot is never below the number of its
 * keys: zero proves "not tracked" and the free returns without hashing into
 * the live map (array lookups are inlined by the verifier). A stale count
 * (a failed race, a replaced key) costs only a needless lookup.
 * Every free reads it, so it must stay in cache: 16 u32 slots per 64-byte
 * line, at most 2^18 slots (1 MiB); the loader sizes it (bpf_tracer.cpp). */
struct slk_filter_line {
	__u32 c[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 14);
	__type(key, __u32);
	__type(value, struct slk_filter_line);
} live_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, struct slk_agg_key);
	__type(value, struct slk_agg_val);
} aggs SEC(".maps");


/* Per selected cache: frees learnt of without an event (slableak.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slk_cache_frees);
} cache_frees SEC(".maps");

/* Per-CPU state that is not a counter. */
struct slk_cpu_state {
	__u32 sample_left;  /* allocations until the next sample */
	__u32 clock_epoch;  /* see alloc_epoch_now() */
	__u64 scratch;      /* see scalar_of() */
	__u64 clock_jiffies;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slk_cpu_state);
} cpu_state SEC(".maps");

static __always_inline struct slk_cpu_state *this_cpu_state(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&cpu_state, &zero);
}

/* The allocation epoch (bpf_ktime_get_ns() >> SLK_EPOCH_MIN_SHIFT), read
 * once per CPU per jiffy: bpf_ktime_get_ns() took ~84 ns a call on a VM
 * whose clock reads trap (docs/performance.md), a third of the kmalloc
 * program, where bpf_jiffies64() is a load. Within a tick the epoch
 * (~1.07 s wide) can be late by at most the tick (4 ms at HZ=250), and a
 * CPU that allocates rarely reads the clock anew on its next tick. */
static __always_inline __u32 alloc_epoch_now(void)
{
	struct slk_cpu_state *cs = this_cpu_state();
	__u64 j = bpf_jiffies64();
	__u32 epoch;

	if (cs && cs->clock_jiffies == j && cs->clock_epoch)
		return cs->clock_epoch;
	epoch = (__u32)(bpf_ktime_get_ns() >> SLK_EPOCH_MIN_SHIFT);
	if (cs) {
		cs->clock_jiffies = j;
		cs->clock_epoch = epoch;
	}
	return epoch;
}

/* The value of a pointer the verifier types (a kfunc's result), as a plain
 * number the verdict can hash: a round trip through per-CPU memory, which
 * the verifier does not track (root only, like every slableak program). */
static __always_inline __u64 scalar_of(const void *p)
{
	struct slk_cpu_state *cs = this_cpu_state();

	if (!cs)
		return 0;
	cs->scratch = (__u64)p;
	return *(volatile __u64 *)&cs->scratch;
}

static __always_inline __u32 *filter_slot(__u64 ptr)
{
	/* Fibonacci hashing: objects are size-aligned, so the low bits carry
	 * nothing; the multiply spreads every bit into the top ones we keep. */
	__u32 h = (__u32)((ptr * 0x9E3779B97F4A7C15ULL) >> (64 - filter_bits));
	__u32 line = h >> 4;
	struct slk_filter_line *l = bpf_map_lookup_elem(&live_filter, &line);

	if (!l)
		return NULL;
	return &l->c[h & 15];
}

/* The kmalloc cache type the kernel picks from gfp flags (first match wins,
 * mm/slab.h kmalloc_type()). */
static __always_inline __u32 kmalloc_type_of(__u64 gfp)
{
	if (gfp & SLK_GFP_DMA)
		return SLK_KMALLOC_DMA;
	if (gfp & SLK_GFP_RECLAIMABLE)
		return SLK_KMALLOC_RECLAIM;
	if ((gfp & SLK_GFP_ACCOUNT) && cg_caches)
		return SLK_KMALLOC_CGROUP;
	return SLK_KMALLOC_NORMAL;
}

static __always_inline int derived_index_of(__u64 bytes_req, __u64 gfp)
{
	__u32 type = kmalloc_type_of(gfp);
	int i;

	for (i = 0; i < SLK_MAX_CACHES; i++) {
		if (i >= n_caches)
			break;
		if (bytes_req > caches[i].req_lo && bytes_req <= caches[i].req_hi &&
		    type == caches[i].kmalloc_type)
			return i;
	}
	return -1;
}

static __always_inline void agg_key_of(struct slk_agg_key *k, const struct slk_live *e)
{
	k->epoch = (__u64)e->alloc_epoch >> ((e->epoch_shift - SLK_EPOCH_MIN_SHIFT) & 63);
	k->stack_id = e->stack_id;
	k->cache_idx = e->cache_idx;
	k->epoch_shift = e->epoch_shift;
	k->task_slot = e->task_slot;
}

/* Account the end of a tracked object's life in its aggregate. */
static __always_inline void agg_release(const struct slk_live *e)
{
	struct slk_agg_key k;
	struct slk_agg_val *v;

	/* The array table's entries are counted by userspace when it reads
	 * (userspace/model/live_tally.h): nothing to do here. */
	if (slk_live_array)
		return;
	agg_key_of(&k, e);
	v = bpf_map_lookup_elem(&aggs, &k);
	if (!v)
		return;
	/* frees first, objects last: userspace deletes a past epoch only when it
	 * reads objects == 0, and by then the other fields are final. */
	__sync_fetch_and_add(&v->frees, 1);
	__sync_fetch_and_add(&v->bytes, -(__s64)e->bytes);
	__sync_fetch_and_add(&v->objects, -1);
}

/* Stops tracking @ptr if it is tracked; returns the cache index it was
 * counted in if this call did, else -1. */
static __always_inline int untrack(__u64 ptr, __u32 *slot)
{
	struct slk_live copy;

	if (!live_take(ptr, &copy))
		return -1;
	__sync_fetch_and_add(slot, -1);
	agg_release(&copy);
	return copy.cache_idx;
}

static __always_inline bool sampled(struct slk_stats *st)
{
	struct slk_cpu_state *cs;

	if (sample_every <= 1)
		return true;
	cs = this_cpu_state();
	if (!cs)
		return true;
	if (cs->sample_left > 1) {
		cs->sample_left--;
		SLK_COUNT(st, allocs_unsampled);
		return false;
	}
	/* Random gap with mean sample_every: a fixed stride could beat in step
	 * with a periodic allocation pattern and bias the estimate. */
	cs->sample_left = 1 + bpf_get_prandom_u32() % (2 * sample_every - 1);
	return true;
}

static __always_inline int track_alloc(void *ctx, __u64 call_site, __u64 ptr, __u64 bytes_alloc,
				       int idx, __u32 *slot, struct slk_stats *st)
{
	struct slk_agg_key k = {};
	struct slk_agg_val zero = {}, *v = NULL;
	struct slk_live e = {};
	__u64 *allocs = NULL;
	__u32 shift;
	long sid;

	if (!task_allowed())
		return 0;
	SLK_COUNT(st, allocs_selected);
	sid = stack_id_for(ctx, call_site, st);
	if (sid < 0)
		sid = SLK_STACK_UNAVAILABLE;
	e.alloc_epoch = alloc_epoch_now();
	e.stack_id = (__u32)sid;
	e.cache_idx = idx;
	shift = epoch_shift; /* read once: userspace may widen it meanwhile */
	e.epoch_shift = shift < SLK_EPOCH_MIN_SHIFT ? SLK_EPOCH_MIN_SHIFT : shift & 63;
	e.bytes = bytes_alloc;
	e.task_slot = task_slot_of_current();

	agg_key_of(&k, &e);
	if (slk_live_array) {
		allocs = agg_allocs_of(&k);
	} else {
		v = bpf_map_lookup_elem(&aggs, &k);
		if (!v) {
			bpf_map_update_elem(&aggs, &k, &zero, BPF_NOEXIST);
			v = bpf_map_lookup_elem(&aggs, &k);
		}
	}
	if (!allocs && !v) {
		SLK_COUNT(st, drop_agg_full);
		return 0;
	}
	/* With the array tables the aggregate counts allocations only, and
	 * before the insert: userspace reads the live table first and the
	 * aggregates after, so every entry it sees is in its key's allocs. */
	if (allocs)
		__sync_fetch_and_add(allocs, 1);
	__sync_fetch_and_add(slot, 1); /* before the insert: never below the keys */
	if (live_insert(ptr, &e)) {
		__sync_fetch_and_add(slot, -1);
		if (allocs)
			__sync_fetch_and_add(allocs, -1);
		SLK_COUNT(st, drop_live_full);
		return 0;
	}
	SLK_COUNT(st, allocs_tracked);
	if (!v)
		return 0;
	__sync_fetch_and_add(&v->allocs, 1);
	__sync_fetch_and_add(&v->bytes, (__s64)bytes_alloc);
	__sync_fetch_and_add(&v->objects, 1);
	return 0;
}

static __always_inline bool in_size_window(__u64 bytes_req)
{
	return (bytes_req > req_lo_min && bytes_req <= req_hi_max) || bytes_req > large_above;
}

/* How a program names the cache of an allocation. Every caller of on_alloc()
 * passes a constant, so each program keeps only its own branches (the shape
 * of pwru's kprobe_skb(..., const bool kprobe_multi)). Which programs load,
 * and so which methods run, is the loader's plan
 * (userspace/model/program_plan.cpp). */
enum slk_naming {
	SLK_NAME_KFUNC,   /* kmalloc: bpf_get_kmem_cache(ptr), the kernel's answer (6.13+) */
	SLK_NAME_SLAB,    /* kmalloc: the object's own slab (slab_walk.h), any kernel */
	SLK_NAME_DERIVED, /* kmalloc: size class and gfp flags, a guess */
	SLK_NAME_EVENT,   /* kmem_cache_alloc: the cache the event passes (named_alloc_cache()) */
};

/* The kmem_cache a kmem_cache_alloc event allocated from, or NULL where this
 * kernel cannot say. Since 6.0 the event passes the cache as its third
 * argument (the loader checks the event's BTF prototype,
 * kernel_features.cpp); before, that slot is bytes_req, and the object's own
 * slab names the cache (NULL unless userspace calibrated the walk: the slab
 * method only; the loader refuses named caches otherwise). */
static __always_inline struct kmem_cache *named_alloc_cache(__u64 ptr, __u64 arg2)
{
	if (alloc_event_has_cache)
		return (struct kmem_cache *)arg2;
	return slab_cache_of(ptr);
}

/* The followed-cache index of the object at @ptr, named @how, or -1.
 * @arg: the gfp flags (derived) or the event's third argument (event). */
static __always_inline int cache_index(const enum slk_naming how, __u64 ptr, __u64 bytes_req, __u64 arg,
				       struct slk_stats *st)
{
	struct kmem_cache *s;
	int idx;

	/* Before any naming: its own size says a kmalloc is not in a slab. */
	if (how != SLK_NAME_EVENT && bytes_req > large_above)
		return large_idx;
	if (how == SLK_NAME_DERIVED)
		return derived_index_of(bytes_req, arg);
	if (how == SLK_NAME_KFUNC)
		s = (struct kmem_cache *)scalar_of(bpf_get_kmem_cache(ptr));
	else if (how == SLK_NAME_SLAB)
		s = slab_cache_of(ptr);
	else
		s = named_alloc_cache(ptr, arg);
	if (!s) {
		/* A kmem_cache_alloc event is of any cache: not a loss of ours. */
		if (how != SLK_NAME_EVENT)
			SLK_COUNT(st, cache_unnamed);
		return -1;
	}
	idx = cache_index_of(s, st);
	return idx < SLK_MAX_CACHES ? idx : -1;
}

/* A cache index (in [0, SLK_MAX_CACHES) already) as an array index the
 * verifier can bound: masked, behind a barrier, since the compiler drops a
 * mask it proves redundant and verifiers lose range checks on spilled or
 * sign-extended copies (seen on 6.1 and 6.18). */
_Static_assert((SLK_MAX_CACHES & (SLK_MAX_CACHES - 1)) == 0, "SLK_MAX_CACHES is a power of two");

static __always_inline __u32 cache_slot(int idx)
{
	__u32 i = (__u32)idx;

	barrier_var(i);
	return i & (SLK_MAX_CACHES - 1);
}

/* The one implicit-free step, of every allocation path: the allocator handed
 * out @ptr again while we still held it as live, so the old object was
 * freed by a path with no per-object event (kfree_bulk, batched kfree_rcu,
 * sheaves, kfree_nolock, a free event lost to recursion). Retire it now so
 * it is not a phantom leak, and count it against the cache it was counted
 * in: that cache's counts are upper bounds (userspace/model/upper_bound.h). */
static __always_inline void retire_reused(__u64 ptr, __u32 *slot, struct slk_stats *st)
{
	struct slk_cache_frees *cf;
	__u32 zero = 0;
	int ci;

	if (!*slot)
		return;
	ci = untrack(ptr, slot);
	if (ci < 0 || ci >= SLK_MAX_CACHES)
		return;
	/* The cache's count before the total: userspace reads the total first,
	 * so it never sees more in the total than in the caches. */
	cf = bpf_map_lookup_elem(&cache_frees, &zero);
	if (cf)
		cf->implicit[cache_slot(ci)]++;
	SLK_COUNT(st, implicit_frees);
}

/* Every allocation event, of every program. The cheap rejects come first:
 * for kmalloc the size window, then the implicit-free check (sampled and
 * unsampled allocations alike), then sampling, and only a sampled
 * allocation has its cache named (the kfunc and the slab walk cost) and its
 * stack taken. A kmem_cache_alloc event carries its cache, so there the
 * verdict comes first: an allocation in a cache we do not follow costs one
 * memo load whatever the number of followed caches, and no filter read (an
 * address of another cache is one of ours only after its whole slab went
 * back to the page allocator, i.e. after our object was freed).
 * @bytes_req, @bytes_alloc: kmalloc only (a named cache's objects all have
 * the cache's size); @arg: see cache_index(). */
static __always_inline int on_alloc(void *ctx, const enum slk_naming how, __u64 call_site, __u64 ptr,
				    __u64 bytes_req, __u64 bytes_alloc, __u64 arg)
{
	const bool named = how == SLK_NAME_EVENT;
	struct slk_stats *st;
	__u32 *slot;
	int idx = -1;

	if (how == SLK_NAME_KFUNC && !slk_have_kmem_cache_kfunc())
		return 0;
	if (!ptr || (!named && !in_size_window(bytes_req)))
		return 0;
	st = cpu_stats();
	if (!st)
		return 0;
	if (named && (idx = cache_index(how, ptr, bytes_req, arg, st)) < 0)
		return 0;
	slot = filter_slot(ptr);
	if (!slot)
		return 0;
	retire_reused(ptr, slot, st);
	if (!sampled(st))
		return 0;
	if (!named && (idx = cache_index(how, ptr, bytes_req, arg, st)) < 0)
		return 0;
	if (named)
		bytes_alloc = caches[cache_slot(idx)].obj_size;
	return track_alloc(ctx, call_site, ptr, bytes_alloc, idx, slot, st);
}

/* The kmalloc programs: one per (event, method). kmalloc_node is the event
 * of NUMA-aware kmallocs before 6.1 (a third of all kmallocs on 5.10), with
 * the same leading arguments.
 * kfunc: the kernel tells us the cache of the address (6.13+).
 * slab: the object's own slab names its cache (slab_walk.h); any kernel,
 *   once the loader has calibrated page_delta.
 * derived: size class and gfp flags.
 * raw_tp but for kfunc: before ~6.13 the verifier refuses tp_btf reads of
 * the untyped "const void *ptr" argument ("arg1 type UNKNOWN is not a
 * struct"); raw_tp passes the same u64 argument array without type checks. */
#define SLK_KMALLOC_PROG(sec, name, how)                                                           \
	SEC(sec)                                                                                   \
	int BPF_PROG(name, unsigned long call_site, const void *ptr, size_t bytes_req,             \
		     size_t bytes_alloc, gfp_t gfp_flags)                                          \
	{                                                                                          \
		return on_alloc(ctx, how, call_site, (__u64)ptr, bytes_req, bytes_alloc, gfp_flags); \
	}

SLK_KMALLOC_PROG("tp_btf/kmalloc", kmalloc_kfunc, SLK_NAME_KFUNC)
SLK_KMALLOC_PROG("raw_tp/kmalloc", kmalloc_slab, SLK_NAME_SLAB)
SLK_KMALLOC_PROG("raw_tp/kmalloc_node", kmalloc_node_slab, SLK_NAME_SLAB)
SLK_KMALLOC_PROG("raw_tp/kmalloc", kmalloc_derived, SLK_NAME_DERIVED)
SLK_KMALLOC_PROG("raw_tp/kmalloc_node", kmalloc_node_derived, SLK_NAME_DERIVED)

/* Named caches (dentry, filp, sock_inode_cache, ...). raw_tp: the third
 * argument is a struct kmem_cache * only on 6.0+, and raw_tp reads it as a
 * plain u64 on every kernel. */
SEC("raw_tp/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc_named, unsigned long call_site, const void *ptr, __u64 arg2)
{
	return on_alloc(ctx, SLK_NAME_EVENT, call_site, (__u64)ptr, 0, 0, arg2);
}

/* Before 6.1 NUMA-aware cache allocations have their own event. */
SEC("raw_tp/kmem_cache_alloc_node")
int BPF_PROG(kmem_cache_alloc_node_named, unsigned long call_site, const void *ptr, __u64 arg2)
{
	return on_alloc(ctx, SLK_NAME_EVENT, call_site, (__u64)ptr, 0, 0, arg2);
}

/* Calibration of page_delta (slab_walk.h): attached by the loader for a few
 * milliseconds before the tracing programs, never with them. */
SEC("raw_tp/mm_page_alloc")
int BPF_PROG(calib_page_alloc, struct page *page, unsigned int order)
{
	calib_on_page((__u64)page, order);
	return 0;
}

SEC("raw_tp/kmalloc")
int BPF_PROG(calib_kmalloc, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc)
{
	calib_on_kmalloc((__u64)ptr, bytes_alloc);
	return 0;
}

SEC("raw_tp/kmalloc_node")
int BPF_PROG(calib_kmalloc_node, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc)
{
	calib_on_kmalloc((__u64)ptr, bytes_alloc);
	return 0;
}

/* Every free, of any cache: one inlined array read decides for almost all
 * of them. The filter needs no cache name, so both methods share it. */
static __always_inline int on_free(__u64 ptr)
{
	struct slk_stats *st;
	__u32 *slot;

	if (!ptr)
		return 0;
	slot = filter_slot(ptr);
	if (!slot || !*slot)
		return 0;
	if (untrack(ptr, slot) >= 0) {
		st = cpu_stats();
		if (st)
			SLK_COUNT(st, frees_tracked);
	}
	return 0;
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree_kfunc, unsigned long call_site, const void *ptr)
{
	return on_free((__u64)ptr);
}

/* kmem_cache_free hands us the cache (6.1+; the kfunc method implies 6.13+;
 * raw_tp so that it arrives as a number the verdict can hash):
 * most of these frees are of other caches, at random addresses, and are
 * rejected by the verdict memo (cache_verdict.h) before the filter is read. */
SEC("raw_tp/kmem_cache_free")
int BPF_PROG(kmem_cache_free_kfunc, unsigned long call_site, const void *ptr,
	     const struct kmem_cache *s)
{
	if (!cache_followed((__u64)s))
		return 0;
	return on_free((__u64)ptr);
}

SEC("raw_tp/kfree")
int BPF_PROG(kfree_derived, unsigned long call_site, const void *ptr)
{
	return on_free((__u64)ptr);
}

SEC("raw_tp/kmem_cache_free")
int BPF_PROG(kmem_cache_free_derived, unsigned long call_site, const void *ptr)
{
	return on_free((__u64)ptr);
}
