/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Structures shared by the BPF programs and the userspace loader.
 * Fixed-width fields only: the same bytes are read on both sides, and
 * userspace static_asserts the sizes below. */
#ifndef SLABLEAK_H
#define SLABLEAK_H

#ifndef __VMLINUX_H__
#include <linux/types.h> /* userspace; BPF side gets the types from vmlinux.h */
#endif

#define SLK_MAX_CACHES 64 /* followed kernel caches, globs and families expanded */
#define SLK_CACHE_NAME_LEN 32
#define SLK_MAX_STACK_DEPTH 48
/* Stack fingerprints: return addresses read straight off the kernel stack at
 * offsets learned per allocation site (see stack_cache.h). */
#define SLK_FP_WORDS 8
#define SLK_SCAN_WORDS 256 /* 2 KiB of stack above the program's frame */

/* Stack id used when an allocation is tracked but its stack could not be
 * recorded (stack map bucket taken by another stack, or map full). The bytes
 * still count; the report shows them under "[stack unavailable]". */
#define SLK_STACK_UNAVAILABLE 0xffffffffu

/* How the kernel side decides which cache an allocation landed in. */
enum slk_cache_method {
	SLK_METHOD_KFUNC = 1,   /* bpf_get_kmem_cache(ptr)->name: exact (6.13+) */
	SLK_METHOD_DERIVED = 2, /* size class + gfp flags: kmalloc-* only */
	SLK_METHOD_SLAB = 3,    /* the object's slab ->slab_cache: exact, any kernel */
};

/* kmalloc cache "types", as the kernel picks them from gfp flags. */
enum slk_kmalloc_type {
	SLK_KMALLOC_NORMAL = 0,
	SLK_KMALLOC_RECLAIM = 1,
	SLK_KMALLOC_CGROUP = 2,
	SLK_KMALLOC_DMA = 3,
	/* Not a kernel type: the pseudo cache "kmalloc-large", kmallocs above
	 * the largest kmalloc cache, which the page allocator serves. */
	SLK_KMALLOC_LARGE = 4,
};

/* One selected cache as configured by userspace (read-only in the kernel). */
struct slk_cache_sel {
	char name[SLK_CACHE_NAME_LEN]; /* exact kmem_cache->name */
	__u32 req_lo;                  /* bytes_req range of its size class: (lo, hi] */
	__u32 req_hi;
	__u32 kmalloc_type;            /* enum slk_kmalloc_type, derived method only */
	__u32 obj_size;                /* bytes per object (slabinfo objsize): named caches */
};

/* --by: the allocating task joins the aggregate key (bpf/task_key.h). */
enum slk_by_mode {
	SLK_BY_NONE = 0,
	SLK_BY_COMM = 1,   /* the task's comm */
	SLK_BY_PID = 2,    /* the process (tgid), with its comm for the report */
	SLK_BY_CGROUP = 3, /* the cgroup v2 id (the inode of its directory) */
};
/* A task's slot is a byte of the live value and of the aggregate key (their
 * padding, so the default layout does not grow): slot 0 is "other", tasks
 * get 1 .. --by-limit in the order they first allocate. */
#define SLK_MAX_TASK_SLOTS 255
#define SLK_COMM_LEN 16

/* Who allocated, as --by sees it: the key of the task_slots map. */
struct slk_task_key {
	__u64 id;                 /* tgid (pid) or cgroup id; 0 for comm */
	char comm[SLK_COMM_LEN];  /* comm (comm, pid); zeros for cgroup */
};

/* The live table (bpf/live_table.h): addresses per 64-byte bucket, and the
 * buckets an address may probe from its home. */
#define SLK_LIVE_WAYS 7
#define SLK_LIVE_PROBES 4

/* The narrowest allocation epoch: 2^30 ns, about 1.07 s. */
#define SLK_EPOCH_MIN_SHIFT 30

/* Value of the live map, keyed by object address. 16 bytes: every live-map
 * element also carries the kernel's 48-byte htab_elem and a 16-byte bucket
 * share, so each byte here is paid a million times (docs/performance.md).
 * The allocation time is kept only to the narrowest epoch, which is all the
 * aggregate key needs (it wraps after 146 years of uptime). */
struct slk_live {
	__u32 alloc_epoch; /* bpf_ktime_get_ns() >> SLK_EPOCH_MIN_SHIFT at allocation */
	__u32 stack_id;
	__u16 cache_idx;
	__u8 epoch_shift;  /* the aggregate key this object was counted in (>= SLK_EPOCH_MIN_SHIFT) */
	__u8 task_slot;    /* --by: who allocated (0: other, or --by off) */
	__u32 bytes;       /* bytes_alloc */
};

/* Per (stack, cache, allocation epoch) aggregate: the kernel's own summary of
 * the live set, so that userspace never walks the live map. An epoch is
 * alloc_ns >> epoch_shift (epoch_shift >= SLK_EPOCH_MIN_SHIFT); userspace widens the epoch as the run grows longer
 * so the number of keys a leaking stack holds stays logarithmic in time. */
struct slk_agg_key {
	__u64 epoch;
	__u32 stack_id;
	__u16 cache_idx;
	__u8 epoch_shift;
	__u8 task_slot; /* --by: who allocated (0: other, or --by off) */
};

struct slk_agg_val {
	__s64 objects; /* outstanding (signed: a free may race ahead of the add) */
	__s64 bytes;
	__u64 allocs;  /* tracked allocations counted in this key */
	__u64 frees;   /* of those, freed (explicitly or implicitly) */
};

/* A slot of the aggregate table (bpf/agg_table.h), where the kernel has the
 * array live table: allocations per aggregate key, two slots to a 64-byte
 * line. @tag is 0 while the slot is free, else a hash of @key with bit 0
 * set; @key is written after the tag is claimed and @allocs counted after
 * the key is written. */
struct slk_agg_slot {
	struct slk_agg_key key;
	__u64 allocs;
	__u64 tag;
};
#define SLK_AGG_PROBES 8 /* slots a key may take from its home: 4 lines */

/* Per allocation site (call_site): where, relative to the BPF program's
 * frame, the return addresses of the next callers sit on the stack. */
struct slk_site {
	__u16 off[SLK_FP_WORDS]; /* word index into the scanned window */
	__u32 n;                 /* offsets learned (0: call_site alone) */
	__u32 span;              /* words to read: max(off) + 1 */
};

/* One learning sample: the stack id captured at a new site and the raw
 * stack words above the program's frame at that moment. */
struct slk_learn {
	__u32 stack_id;
	__u32 nwords;
	__u64 raw[SLK_SCAN_WORDS];
};

/* (call_site, a 64-bit hash of the learned words): 16 bytes for the map
 * to hash and compare instead of 72. Two paths of one site whose words
 * hash alike (~2^-64 a pair) are caught like any other stale fingerprint:
 * by the verification unwinds. */
struct slk_fp_key {
	__u64 call_site;
	__u64 words_hash;
};

struct slk_fp_val {
	__u32 stack_id;
	__u32 uses;
	__u32 unstable; /* a verification capture disagreed: never trust again */
	__u32 pad;
};

/* Per selected cache: frees the kernel did not announce with a per-object
 * event, by how we learnt of them. One per CPU, summed by userspace. */
struct slk_cache_frees {
	__u64 implicit[SLK_MAX_CACHES]; /* address handed out again while still live */
};

/* Every tracer counter, described once; the kernel struct below, the
 * userspace health record and the table, JSON and Prometheus outputs are all
 * generated from or driven by this list, so adding a counter is one line.
 * Columns:
 *   src     K: counted per CPU by the BPF programs (a field of slk_stats);
 *           P: counted by userspace (bpf_prog_info, stack retirement; no field here)
 *   field   C name: slk_stats member and userspace TracerCounter
 *   json    key under "tracer" in the JSON report (docs/json.md)
 *   metric  Prometheus family (docs/metrics.md); label key and value, or ""
 *           for a family of one series
 *   group   the table line it is shown on: "tracer" or "drops"
 *   text    its words on that line
 *   help    what it counts; the HELP text of a one-series family */
#define SLK_TRACER_COUNTERS(X)                                                                                   \
	X(K, allocs_selected, "allocs_selected", "slableak_tracer_events_total", "event", "alloc_selected",         \
	  "tracer", "selected allocs",                                                                               \
	  "allocations that landed in a selected cache (with sampling: the sampled ones)")                          \
	X(K, allocs_tracked, "allocs_tracked", "slableak_tracer_events_total", "event", "alloc_tracked", "tracer",   \
	  "tracked", "of those, inserted in the live map")                                                          \
	X(K, allocs_unsampled, "allocs_unsampled", "slableak_tracer_events_total", "event", "alloc_unsampled",      \
	  "tracer", "skipped by sampling",                                                                           \
	  "allocations of the selected size classes skipped by --sample-every before their cache was named")        \
	X(K, frees_tracked, "frees_tracked", "slableak_tracer_events_total", "event", "free_tracked", "tracer",      \
	  "tracked frees", "frees of tracked objects")                                                               \
	X(K, cache_lookups, "cache_lookups", "slableak_tracer_events_total", "event", "cache_lookup", "tracer",     \
	  "cache lookups", "slow path: a kmem_cache not seen before was named")                                     \
	X(K, stacks_from_fingerprint, "stacks_from_cache", "slableak_tracer_events_total", "event",                 \
	  "stack_from_fingerprint", "tracer", "stacks from fingerprints",                                           \
	  "stack ids taken from a verified stack fingerprint instead of an unwind")                                 \
	X(K, implicit_frees, "implicit_frees", "slableak_tracer_implicit_frees_total", "", "", "tracer",            \
	  "implicit frees",                                                                                          \
	  "Objects retired because their address was handed out again (freed by a path without an event)")        \
	X(K, fingerprint_mismatches, "fingerprint_mismatches", "slableak_tracer_fingerprint_mismatches_total", "",  \
	  "", "tracer", "fingerprint mismatches",                                                                    \
	  "Stack fingerprints that a verification unwind contradicted (each is then unwound for good)")            \
	X(K, drop_live_full, "drop_live_map_full", "slableak_tracer_dropped_total", "reason", "live_map_full",      \
	  "drops", "live map full", "allocations not tracked: the live map was full")                               \
	X(K, drop_agg_full, "drop_aggregate_map_full", "slableak_tracer_dropped_total", "reason",                   \
	  "aggregate_map_full", "drops", "aggregate map full",                                                       \
	  "allocations not tracked: the aggregate map was full")                                                    \
	X(K, stack_errors, "stack_capture_failed", "slableak_tracer_dropped_total", "reason",                       \
	  "stack_capture_failed", "drops", "stack capture failed",                                                   \
	  "tracked allocations whose stack could not be unwound (filed under [stack unavailable])")                \
	X(K, stack_store_full, "stack_store_full", "slableak_tracer_dropped_total", "reason", "stack_store_full",   \
	  "drops", "stack store full",                                                                               \
	  "tracked allocations on a new stack while --max-stacks stacks were held (filed under [stack unavailable])") \
	X(K, stack_collisions, "stack_collisions", "slableak_tracer_dropped_total", "reason", "stack_collision",    \
	  "drops", "stack id collisions",                                                                            \
	  "tracked allocations whose stack found every probed id held by other stacks ([stack unavailable])")       \
	X(K, stack_store_busy, "stack_store_busy", "slableak_tracer_dropped_total", "reason", "stack_store_busy",   \
	  "drops", "stack store busy",                                                                               \
	  "tracked allocations whose new stack the store refused otherwise, e.g. nested on one CPU ([stack unavailable])") \
	X(K, stacks_stored, "stacks_stored", "slableak_tracer_events_total", "event", "stack_stored", "tracer",     \
	  "stacks stored", "distinct kernel stacks inserted into the stack store")                                  \
	X(P, stacks_retired, "stacks_retired", "slableak_tracer_events_total", "event", "stack_retired", "tracer",  \
	  "stacks retired",                                                                                           \
	  "kernel stacks retired after --stack-idle with nothing outstanding (totals kept per cache)")             \
	X(K, cache_unnamed, "cache_unnamed", "slableak_tracer_dropped_total", "reason", "cache_unnamed", "drops",    \
	  "cache not named",                                                                                         \
	  "allocations of the selected size classes whose cache could not be named (slab not readable): counted nowhere") \
	X(P, recursion_misses, "recursion_misses", "slableak_tracer_dropped_total", "reason", "recursion_miss",     \
	  "drops", "recursion misses",                                                                               \
	  "events the kernel did not deliver because a BPF program was already running on that CPU")

/* Tracer health; one per CPU, summed by userspace. */
#define SLK_STATS_FIELD_K(field) __u64 field;
#define SLK_STATS_FIELD_P(field)
#define SLK_STATS_FIELD(src, field, ...) SLK_STATS_FIELD_##src(field)
struct slk_stats {
	SLK_TRACER_COUNTERS(SLK_STATS_FIELD)
};
#undef SLK_STATS_FIELD

#endif /* SLABLEAK_H */
