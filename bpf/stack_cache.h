/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Stack capture without unwinding every allocation.
 *
 * bpf_get_stackid() costs ~750 ns here (ORC unwind); the rest of tracking an
 * object costs a few hundred. Most allocations come from a few paths, so we
 * fingerprint the path cheaply and unwind only to learn or to check:
 *
 *  - The return address into the allocating function F is the tracepoint's
 *    call_site. The frames between the tracepoint's argument array (ctx)
 *    and F are fixed for a given call_site, so the return address into F's
 *    caller sits at a fixed offset from ctx; so do the next ones along the
 *    first path we learn.
 *    Learning: for a new site the kernel hands userspace one sample (the
 *    stack id it captured and 2 KiB of raw stack above our frame);
 *    userspace finds where those return addresses sit in the window and
 *    writes the offsets back (userspace/stack_learning.h). Searching in
 *    userspace keeps loops out of the programs, so they verify cheaply on
 *    every kernel. Until a site is learned, its allocations are unwound.
 *  - Fast path: read the window, take the words at the learned offsets:
 *    (call_site, a hash of w[0..7]) is the fingerprint, mapped to a stack id
 *    learned by a real capture. Random kstack offsets (RANDOMIZE_KSTACK_OFFSET) do not
 *    matter: they shift the syscall entry, not the distances above us.
 *  - Trust is earned and re-checked: the first SLK_FP_VERIFY_FIRST uses of a
 *    fingerprint, and one in SLK_FP_VERIFY_EVERY after (at random), still unwind and
 *    compare. One disagreement (two stacks that share the window and differ
 *    deeper) marks the fingerprint unstable for good: every allocation on it
 *    is unwound from then on. Disagreements are counted and exported.
 */
#ifndef SLABLEAK_STACK_CACHE_H
#define SLABLEAK_STACK_CACHE_H

/* Self-contained: include after vmlinux.h and the libbpf helpers. */
#include "slableak.h"
#include "core_shims.h" /* slk_ksym_exists */
#include "tracer_stats.bpf.h"
#include "stack_store.h" /* the `stacks` map: kernel stacks by id */

/* What the fast path assumes about the architecture, in one place.
 *
 * x86-64 (proven: integration tests and the kernel matrix check the stacks
 * it names): return addresses are stored on the stack as plain addresses,
 * and kernel stacks (task and IRQ) are THREAD_SIZE-aligned (16 KiB, 32 KiB
 * with KASAN: then the bound below is merely conservative). The window must
 * stop at the top of the stack or the read faults as a whole.
 *
 * arm64: not proven, so every tracked allocation is unwound. A known
 * obstacle: Debian's 6.1+ arm64 kernels sign the return addresses they save
 * on the stack (CONFIG_ARM64_PTR_AUTH_KERNEL; the CPU has pointer
 * authentication under qemu -cpu max and on recent Neoverse cores), so the
 * raw window need not hold the addresses the unwinder reports. Seen on 6.18
 * under qemu with this path enabled (3,000 held objects, 4 s): no stack id
 * came from a fingerprint and one verification unwind disagreed.
 * Userspace reports fingerprints as off on arm64 (userspace/model/target_arch.h);
 * this guard keeps the BPF object honest on its own. */
#if defined(__TARGET_ARCH_x86)
#define SLK_FP_ARCH_PROVEN 1
#define SLK_STACK_ALIGN 16384
#else
#define SLK_FP_ARCH_PROVEN 0
#define SLK_STACK_ALIGN 16384 /* unused: the fast path is compiled out */
#endif

#define SLK_FP_VERIFY_FIRST 4
#define SLK_FP_VERIFY_EVERY 64 /* power of two */

const volatile bool stack_cache = true;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct slk_site);
} sites SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct slk_fp_key);
	__type(value, struct slk_fp_val);
} fingerprints SEC(".maps");

/* This CPU's last site and last trusted fingerprint, so that a path that
 * allocates again on the same CPU skips both hash lookups (~45 ns of the
 * ~250 the kmalloc program took). A site never changes once published
 * (userspace inserts it once), so its copy stays true. A fingerprint can
 * stop being trusted (marked unstable) or be deleted (its stack retired):
 * both bump fp_gen, which empties every CPU's fingerprint memo. The memo
 * is written by nested programs too (an interrupt's kmalloc on this CPU),
 * so it is read into locals and checked against `check` before use. */
struct slk_fp_memo {
	__u64 site_cs;          /* call_site of `site`; 0: none */
	struct slk_site site;
	__u64 fp_cs;            /* the fingerprint: call_site, words hash */
	__u64 fp_hash;
	__u32 fp_sid;           /* its stack id */
	__u32 fp_gen;           /* fp_gen when it was read */
	__u64 check;
};

struct slk_scratch {
	struct slk_learn learn;
	struct slk_fp_key key;
	__u64 anchor; /* see stack_id_for() */
	__u64 draw;   /* see verify_draw() */
	struct slk_fp_memo memo;
};

/* Bumped by userspace after it deletes fingerprints (retire_stacks) and by
 * a program that marks one unstable. */
__u32 fp_gen = 0;

static __always_inline __u64 memo_check(__u64 cs, __u64 hash, __u32 sid, __u32 gen)
{
	return (cs ^ (hash * 0x9E3779B97F4A7C15ULL) ^ ((__u64)sid << 32 | gen)) + 1;
}

/* call_site -> one raw-stack sample for userspace to learn offsets from. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, struct slk_learn);
} learn SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slk_scratch);
} scratch SEC(".maps");

/* Skip the innermost frame, our own program: its return address depends on
 * which inlined call site captured the stack, and would give one path
 * several stack ids.
 *
 * One skip is not always enough: on Debian's 5.10.223 (5.10.0-32) the
 * unwind still holds the JIT'd program's own return address (an unnamed
 * frame ahead of bpf_trace_run*), so each call site that captured a path
 * gave it another stack id (10 stored for 4 paths in the kernel matrix;
 * 5.10.262 stored one per path). With a capture per branch, the
 * verification unwind never matched the one that learned the fingerprint:
 * every fingerprint went unstable at its first check and none served an
 * allocation. Every capture therefore happens at the one call site in
 * stack_id_for below, so the program's address is the same in every unwind
 * of the same path on every kernel. */
#define SLK_SKIP_SELF 1

/* What stack_id_for does with the one unwind it takes. */
enum slk_after_unwind {
	SLK_AFTER_NOTHING,  /* plain unwind: fast path off or not usable */
	SLK_AFTER_LEARN,    /* new call site: hand userspace a sample */
	SLK_AFTER_VERIFY,   /* check a trusted fingerprint against the unwind */
	SLK_AFTER_INSERT,   /* first use of a fingerprint: remember its stack */
};

/* A site reads its words one by one where that is cheaper than copying
 * the window: a helper read costs about as much as copying ~12 words of
 * window (the msgsnd path: 2 words 58 apart; the UDP send path: 8 words
 * over 208, whose window copy took ~36 ns more than 8 reads). */
#define SLK_FP_READ_WORDS_COST 12

#ifndef SLK_NO_KFUNC
/* The object with kfunc externs loads only on 6.13+, which all have it
 * (6.2+). Weak, and checked, all the same. */
extern void *bpf_rdonly_cast(void *obj, __u32 btf_id) __ksym __weak;
#define slk_direct_reads() slk_ksym_exists(bpf_rdonly_cast)
#else
static __always_inline void *bpf_rdonly_cast(void *obj, __u32 btf_id) { return NULL; }
#define slk_direct_reads() 0
#endif

/* One word of kernel stack at @addr into @w; 0, or non-zero if it could
 * not be read. With bpf_rdonly_cast the word is a plain load the JIT
 * guards with an exception-table entry (BPF_PROBE_MEM: a fault reads 0),
 * where bpf_probe_read_kernel is a helper call with page faults disabled
 * around it: 8 of them took ~33 ns of a ~150-ns kmalloc program on the
 * UDP send path (docs/performance.md). The cast needs a struct type whose
 * first member is a plain word: rb_node's is an unsigned long. */
static __always_inline int read_stack_word(__u64 addr, __u64 *w)
{
	if (slk_direct_reads()) {
		struct rb_node *n = bpf_rdonly_cast((void *)addr, bpf_core_type_id_kernel(struct rb_node));

		*w = n->__rb_parent_color;
		return 0;
	}
	return bpf_probe_read_kernel(w, sizeof(*w), (void *)addr);
}

/* Words of kernel stack from @base up to the top of its stack: the window
 * must stop there, or a read of it faults as a whole. */
static __always_inline __u64 stack_words_above(__u64 base)
{
	return (((base + SLK_STACK_ALIGN) & ~((__u64)SLK_STACK_ALIGN - 1)) - base) / 8;
}

/* The fingerprint hash of the words so far, @h, and the next word, @w
 * (an FNV-1a step on whole words, then a shift so that the high bits of
 * one word reach the low bits the next multiply spreads). */
static __always_inline __u64 fp_mix(__u64 h, __u64 w)
{
	h = (h ^ w) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

/* Reads up to @words words of kernel stack from @base into @raw; returns
 * how many words were read (0 on failure). */
static __always_inline __u32 read_window(__u64 *raw, __u64 base, __u32 words)
{
	__u64 avail = stack_words_above(base) * 8;
	__u64 bytes = (__u64)words * 8;

	if (bytes > avail)
		bytes = avail & ~7ULL;
	if (bytes > SLK_SCAN_WORDS * 8)
		bytes = SLK_SCAN_WORDS * 8;
	/* A mask, not a compare, bounds the size for every verifier (5.10's
	 * loses a compare made on another register copy): at most 255 words. */
	bytes &= SLK_SCAN_WORDS * 8 - 8;
	if (bytes < 8)
		return 0;
	if (bpf_probe_read_kernel(raw, bytes, (void *)base))
		return 0;
	return bytes / 8;
}

/* Serve a trusted fingerprint from the cache (true), or verify it (false,
 * one time in SLK_FP_VERIFY_EVERY)? Drawn from a per-CPU xorshift: a
 * counter in the fingerprint was a locked add on a line every CPU that
 * allocates on the path writes, and a per-CPU count could beat in step with
 * paths that alternate and never verify one of them. */
static __always_inline bool verify_draw(struct slk_scratch *sc)
{
	__u64 x = sc->draw;

	if (!x)
		x = 0x9E3779B97F4A7C15ULL ^ bpf_get_prandom_u32();
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	sc->draw = x;
	return (x >> 32) & (SLK_FP_VERIFY_EVERY - 1);
}

static __always_inline long stack_id_for(void *ctx, __u64 call_site, struct slk_stats *st)
{
	struct slk_scratch *sc = NULL;
	struct slk_site *site, site_copy;
	__u32 gen = 0;
	bool serve;
	struct slk_fp_val *fv = NULL, fresh = {};
	__u32 zero = 0, uses;
	__u64 base = 0;
	int after = SLK_AFTER_NOTHING;
	long sid;
	int i;

	if (SLK_FP_ARCH_PROVEN && stack_cache)
		sc = bpf_map_lookup_elem(&scratch, &zero);
	/* The anchor is ctx: for raw_tp and tp_btf it is the argument array on
	 * the kernel stack frame of bpf_trace_run<N>, a fixed distance below
	 * the allocating callers. (Not our own locals: since 6.13 x86-64 may
	 * run tracing programs on a per-CPU private stack.) The verifier
	 * forbids arithmetic on that pointer, so launder it into a plain
	 * number through per-CPU memory, which the verifier does not track
	 * (pointer stores into maps need CAP_PERFMON, which every slableak
	 * program has): a store and a load, where a probe read of the
	 * spilled pointer cost a helper call on every allocation. */
	if (sc) {
		sc->anchor = (__u64)ctx;
		base = *(volatile __u64 *)&sc->anchor;
	}
	if (sc) {
		if (sc->memo.site_cs == call_site) {
			site_copy = sc->memo.site;
			site = &site_copy;
			if (sc->memo.site_cs != call_site) /* rewritten meanwhile */
				site = bpf_map_lookup_elem(&sites, &call_site);
		} else {
			site = bpf_map_lookup_elem(&sites, &call_site);
			if (site) {
				sc->memo.site_cs = 0;
				sc->memo.site = *site;
				sc->memo.site_cs = call_site;
			}
		}
		if (!site) {
			after = SLK_AFTER_LEARN;
			goto unwind;
		}
		sc->key.call_site = call_site;
		sc->key.words_hash = 0;
		if (site->n) {
			__u32 span = site->span;
			__u64 h = 0xcbf29ce484222325ULL, w;

			if (span > SLK_SCAN_WORDS || span > stack_words_above(base))
				goto unwind;
			if (slk_direct_reads() || site->n * SLK_FP_READ_WORDS_COST <= span) {
				for (i = 0; i < SLK_FP_WORDS; i++) {
					if (i >= site->n)
						break;
					if (read_stack_word(base + (__u64)(site->off[i] & (SLK_SCAN_WORDS - 1)) * 8, &w))
						goto unwind;
					h = fp_mix(h, w);
				}
			} else {
				if (read_window(sc->learn.raw, base, span) < span)
					goto unwind;
				for (i = 0; i < SLK_FP_WORDS; i++) {
					if (i >= site->n)
						break;
					h = fp_mix(h, sc->learn.raw[site->off[i] & (SLK_SCAN_WORDS - 1)]);
				}
			}
			sc->key.words_hash = h;
		}
		gen = fp_gen;
		serve = verify_draw(sc); /* drawn once: verify this allocation or not */
		if (serve) {
			__u64 m_cs = sc->memo.fp_cs, m_hash = sc->memo.fp_hash, m_check = sc->memo.check;
			__u32 m_sid = sc->memo.fp_sid, m_gen = sc->memo.fp_gen;

			if (m_cs == call_site && m_hash == sc->key.words_hash && m_gen == gen &&
			    m_check == memo_check(m_cs, m_hash, m_sid, m_gen)) {
				SLK_COUNT(st, stacks_from_fingerprint);
				return m_sid;
			}
		}
		fv = bpf_map_lookup_elem(&fingerprints, &sc->key);
		if (fv && !fv->unstable) {
			/* Read, then add: a fetching atomic needs BPF v3 (5.12+); a
			 * race here only shifts which use gets verified. */
			uses = fv->uses;
			if (uses < SLK_FP_VERIFY_FIRST) {
				__sync_fetch_and_add(&fv->uses, 1);
			} else if (serve) {
				__u32 fsid = fv->stack_id;

				sc->memo.check = 0;
				sc->memo.fp_cs = call_site;
				sc->memo.fp_hash = sc->key.words_hash;
				sc->memo.fp_sid = fsid;
				sc->memo.fp_gen = gen;
				sc->memo.check = memo_check(call_site, sc->key.words_hash, fsid, gen);
				SLK_COUNT(st, stacks_from_fingerprint);
				return fsid;
			}
			after = SLK_AFTER_VERIFY;
		} else if (!fv) {
			after = SLK_AFTER_INSERT;
		}
	}
unwind:
	/* The only unwind (see SLK_SKIP_SELF). */
	sid = store_stack(ctx, SLK_SKIP_SELF, st);
	if (sid < 0 || !sc)
		return sid;
	if (after == SLK_AFTER_LEARN) {
		if (!bpf_map_lookup_elem(&learn, &call_site)) {
			sc->learn.stack_id = sid;
			sc->learn.nwords = read_window(sc->learn.raw, base, SLK_SCAN_WORDS);
			if (sc->learn.nwords)
				bpf_map_update_elem(&learn, &call_site, &sc->learn, BPF_NOEXIST);
		}
	} else if (after == SLK_AFTER_VERIFY && fv) {
		if ((__u32)sid != fv->stack_id) {
			fv->unstable = 1;
			__sync_fetch_and_add(&fp_gen, 1); /* every CPU's memo forgets it */
			SLK_COUNT(st, fingerprint_mismatches);
		}
	} else if (after == SLK_AFTER_INSERT) {
		fresh.stack_id = sid;
		fresh.uses = 1;
		bpf_map_update_elem(&fingerprints, &sc->key, &fresh, BPF_NOEXIST);
	}
	return sid;
}

#endif
