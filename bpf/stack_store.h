/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A content-addressed store of kernel stacks: no stack is lost to a bucket
 * collision.
 *
 * A BPF_MAP_TYPE_STACK_TRACE map files a stack under (hash & (buckets - 1))
 * and, without BPF_F_REUSE_STACKID, fails when another stack holds that
 * bucket. The hash is deterministic, so the same path fails for as long as
 * the map lives: with S stacks in B buckets a new path is lost with
 * probability about S/B (docs/performance.md measured 0 of 1,000 leaked
 * objects named at 41 stacks in 128 buckets). REUSE_STACKID would overwrite
 * the bucket and leave older ids pointing at the wrong frames.
 *
 * Here the stack is unwound into a per-CPU buffer with bpf_get_stack(),
 * which zero-fills the unused tail, and its frames are hashed. The id is
 * that hash, folded to 31 bits; the frames live in a hash map under it. A
 * different stack already under the id (a 31-bit hash collision among the
 * stacks held, rare) moves on to the next of SLK_STACK_PROBES ids; the
 * frames are compared word by word, so an id never names two stacks. The
 * same path always lands on the same id while it is stored, so stack ids
 * stay stable across the fingerprint cache, the aggregates and userspace.
 * Ids are below 2^31: SLK_STACK_UNAVAILABLE can never be one.
 *
 * What can still fail is counted by reason (struct slk_stats): the unwind
 * itself (stack_errors), a full store (stack_store_full: --max-stacks live
 * stacks; userspace retires idle ones, see bpf_tracer.cpp), all probes
 * taken by other stacks (stack_collisions), and a map update refused for
 * another reason (stack_store_busy, e.g. -EBUSY when a program nests on
 * the same CPU). stacks_stored counts insertions, so userspace knows how
 * many distinct stacks went through the store.
 *
 * Self-contained: include after vmlinux.h and the libbpf helpers. Defines
 * the `stacks` map; its size is set by the loader (--max-stacks).
 */
#ifndef SLABLEAK_STACK_STORE_H
#define SLABLEAK_STACK_STORE_H

#include "slableak.h"
#include "tracer_stats.bpf.h"

#define SLK_STACK_PROBES 4
#define SLK_STACK_ID_MASK 0x7fffffffu
/* Odd, so successive probes visit different ids. */
#define SLK_STACK_PROBE_STEP 0x9e3779b1u

#ifndef SLK_E2BIG
#define SLK_E2BIG 7
#define SLK_EEXIST 17
#endif

struct slk_stack {
	__u64 ip[SLK_MAX_STACK_DEPTH];
};

/* stack id -> frames. Preallocated: an insert on the kmalloc tracepoint
 * must not itself kmalloc. Sized by --max-stacks (bpf_tracer.cpp). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 14);
	__type(key, __u32);
	__type(value, struct slk_stack);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slk_stack);
} stack_buf SEC(".maps");

static __always_inline __u64 stack_hash(const struct slk_stack *s)
{
	__u64 h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < SLK_MAX_STACK_DEPTH; i++) {
		h ^= s->ip[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h;
}

static __always_inline bool stack_equal(const struct slk_stack *a, const struct slk_stack *b)
{
	int i;

	for (i = 0; i < SLK_MAX_STACK_DEPTH; i++)
		if (a->ip[i] != b->ip[i])
			return false;
	return true;
}

/* The kernel's BPF tracepoint dispatcher, bpf_trace_run1 .. 12: its text,
 * set by the loader from kallsyms (userspace/symbols/bpf_dispatcher.h);
 * 0, 0 where it is not known. */
const volatile __u64 dispatch_lo = 0;
const volatile __u64 dispatch_hi = 0;

/* How far in from the innermost frame the dispatcher is looked for: the
 * BPF program (5.10 and arm64 unwind it) and bpf_trace_run<N>. */
#define SLK_INNER_FRAMES 8

/* Zeroes the frames up to the last one inside the dispatcher. They are not
 * the path, and they are not stable: the return address into
 * bpf_trace_run<N> moves when kernel.bpf_stats_enabled flips (a static
 * branch around the program call: bpf_trace_run6+0x11c with stats off,
 * +0x18d with them on, 6.18 x86-64), and a JIT'd program before it has a
 * new address at every load. Kept, they gave one path a second id after
 * the flip, the fingerprint's next verification unwind disagreed, and the
 * fingerprint was off for good: every allocation on the path unwound from
 * then on (kmalloc program ~480 -> 2,400-3,400 ns a run here). Frames
 * inner of the call site are kept otherwise: for a track_caller
 * allocation (kmemdup, __alloc_skb on 5.10) the call site is the helper's
 * caller, and the helper is part of the path. Leading zeros, not a shift:
 * the indices stay constants the verifier needs no bounds for; userspace
 * skips them (userspace/symbols/symbolizer.cpp). */
static __always_inline void drop_dispatch_frames(struct slk_stack *s)
{
	int i, last = -1;

	for (i = 0; i < SLK_INNER_FRAMES; i++)
		if (s->ip[i] >= dispatch_lo && s->ip[i] < dispatch_hi)
			last = i;
	for (i = 0; i < SLK_INNER_FRAMES; i++)
		if (i <= last)
			s->ip[i] = 0;
}

/* Unwinds the current kernel stack (skipping @skip frames) and returns its
 * id in the store, or -1 (counted by reason in @st). */
static __always_inline long store_stack(void *ctx, __u64 skip, struct slk_stats *st)
{
	struct slk_stack *buf, *held;
	__u32 zero = 0, id, key;
	long len, err;
	__u64 h;
	int p;

	buf = bpf_map_lookup_elem(&stack_buf, &zero);
	if (!buf) {
		SLK_COUNT(st, stack_errors);
		return -1;
	}
	len = bpf_get_stack(ctx, buf->ip, sizeof(buf->ip), skip);
	if (len <= 0) {
		SLK_COUNT(st, stack_errors);
		return -1;
	}
	drop_dispatch_frames(buf);
	h = stack_hash(buf);
	id = (__u32)(h ^ (h >> 32));
	for (p = 0; p < SLK_STACK_PROBES; p++) {
		key = (id + p * SLK_STACK_PROBE_STEP) & SLK_STACK_ID_MASK;
		held = bpf_map_lookup_elem(&stacks, &key);
		if (held) {
			if (stack_equal(held, buf))
				return key;
			continue;
		}
		err = bpf_map_update_elem(&stacks, &key, buf, BPF_NOEXIST);
		if (!err) {
			SLK_COUNT(st, stacks_stored);
			return key;
		}
		if (err == -SLK_EEXIST) {
			/* Another CPU stored a stack under this id just now. */
			held = bpf_map_lookup_elem(&stacks, &key);
			if (held && stack_equal(held, buf))
				return key;
			continue;
		}
		if (err == -SLK_E2BIG)
			SLK_COUNT(st, stack_store_full);
		else
			SLK_COUNT(st, stack_store_busy);
		return -1;
	}
	SLK_COUNT(st, stack_collisions);
	return -1;
}

#endif
