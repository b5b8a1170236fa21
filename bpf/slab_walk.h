/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The exact cache of an object on kernels without bpf_get_kmem_cache().
 *
 * The kernel knows which cache owns an object: the slab the object lies in
 * points at its kmem_cache. bpf_get_kmem_cache() (6.13+) does exactly this:
 * virt_to_slab(addr)->slab_cache. We do the same walk by hand:
 *
 *   page  = the struct page of addr (direct/linear map -> vmemmap, below)
 *   head  = page->compound_head - 1 if bit 0 is set (a tail page of the slab)
 *   check = the head is a slab page (PG_slab flag, or page type on 6.10+)
 *   cache = head's slab_cache (struct slab on 5.17+, struct page before)
 *
 * Direct map and vmemmap are both linear and both randomised by KASLR
 * (x86-64: page_offset_base, vmemmap_base; arm64's linear map and vmemmap
 * are as linear, with their own bases). Their bases are data symbols, which
 * /proc/kallsyms lists only with CONFIG_KALLSYMS_ALL (not on every kernel:
 * not on the development VM), and no BPF helper reads them. But the map from
 * address to struct page is affine:
 *   page(addr) = vmemmap_base + ((addr - page_offset_base) >> PAGE_SHIFT) * sizeof(struct page)
 *              = page_delta + (addr >> PAGE_SHIFT) * sizeof(struct page)   (mod 2^64)
 * so one exact (struct page *, address) pair gives page_delta. A large
 * kmalloc (above the biggest kmalloc cache) is a compound page straight from
 * the page allocator: mm_page_alloc sees its struct page, then the kmalloc
 * event sees its address, on the same CPU. The loader provokes a few of them
 * (a 16 KiB setxattr value is kvmalloc'ed before the name or permissions are
 * checked, on every kernel since 5.10: a call that cannot succeed, so that
 * nothing is written), takes the delta most pairs agree on
 * (bpf_tracer.cpp), and only then attaches the tracing programs.
 *
 * Nothing read here is trusted blindly: a read that faults, a page that is
 * not a slab page (a wrong delta lands on one only by a miracle), or a NULL
 * cache gives NULL, and the caller counts the allocation as unnamed.
 * Everything is read with two bpf_probe_read_kernel() calls at most (the
 * object's page and, for a tail page, its head), 64 bytes each.
 */
#ifndef SLABLEAK_SLAB_WALK_H
#define SLABLEAK_SLAB_WALK_H

/* Self-contained: include after vmlinux.h and the libbpf helpers. */
#include "core_shims.h"

/* 4 KiB pages: x86-64, and arm64 kernels built so (Debian's); userspace
 * picks the walk only where the page size is 4 KiB (live_session.cpp). */
#define SLK_PAGE_SHIFT 12
#define SLK_PAGE_READ 64  /* bytes of struct page read at once: every field we use is below */

/* Written by the loader after calibration, before the programs that use it
 * are attached; 0 = not calibrated (every walk gives NULL). */
volatile __u64 page_delta = 0;

/* Copies a field of the page image at a CO-RE offset; @off is a constant
 * after relocation, so the verifier checks the bounds at load time. */
#define SLK_PAGE_FIELD(buf, off, type)                                                         \
	((off) + sizeof(type) <= SLK_PAGE_READ ? *(type *)((buf) + (off)) : (type)0)

static __always_inline bool slk_head_is_slab(const __u8 *head)
{
	/* 6.12+: the page type is the top byte of page_type. */
	if (bpf_core_enum_value_exists(enum pagetype, PGTY_slab)) {
		__u32 t = SLK_PAGE_FIELD(head, bpf_core_field_offset(struct page, page_type), __u32);

		return (t >> 24) == bpf_core_enum_value(enum pagetype, PGTY_slab);
	}
	/* 6.10, 6.11: one inverted bit per type under PAGE_TYPE_BASE. */
	if (bpf_core_enum_value_exists(enum pagetype___v610, PG_slab___v610)) {
		__u32 t = SLK_PAGE_FIELD(head, bpf_core_field_offset(struct page, page_type), __u32);
		__u32 base = bpf_core_enum_value(enum pagetype___v610, PAGE_TYPE_BASE___v610);
		__u32 bit = bpf_core_enum_value(enum pagetype___v610, PG_slab___v610);

		return (t & (base | bit)) == base;
	}
	/* Before 6.10: the PG_slab page flag of the head page. */
	if (bpf_core_enum_value_exists(enum pageflags___pre610, PG_slab___pre610)) {
		__u64 f = SLK_PAGE_FIELD(head, bpf_core_field_offset(struct page___pre610, flags), __u64);

		return (f >> bpf_core_enum_value(enum pageflags___pre610, PG_slab___pre610)) & 1;
	}
	return false;
}

static __always_inline __u64 slk_slab_cache_field(const __u8 *head)
{
	if (bpf_core_field_exists(struct page___pre517, slab_cache))
		return SLK_PAGE_FIELD(head, bpf_core_field_offset(struct page___pre517, slab_cache), __u64);
	return SLK_PAGE_FIELD(head, bpf_core_field_offset(struct slab, slab_cache), __u64);
}

/* The kmem_cache of the slab object at @addr, or NULL. */
static __always_inline struct kmem_cache *slab_cache_of(__u64 addr)
{
	__u8 buf[SLK_PAGE_READ];
	__u64 page, head;

	if (!page_delta)
		return NULL;
	page = page_delta + (addr >> SLK_PAGE_SHIFT) * bpf_core_type_size(struct page);
	if (bpf_probe_read_kernel(buf, sizeof(buf), (const void *)page))
		return NULL;
	head = SLK_PAGE_FIELD(buf, bpf_core_field_offset(struct page, compound_head), __u64);
	if (head & 1) {
		if (bpf_probe_read_kernel(buf, sizeof(buf), (const void *)(head - 1)))
			return NULL;
	}
	if (!slk_head_is_slab(buf))
		return NULL;
	return (struct kmem_cache *)slk_slab_cache_field(buf);
}

/* ---- calibration: one (struct page *, address) pair per large kmalloc ---- */

struct slk_calib_cpu {
	__u64 page; /* last page allocated on this CPU, 0 once used */
	__u32 order;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slk_calib_cpu);
} calib_cpu SEC(".maps");

/* candidate page_delta -> how many pairs gave it */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u64);
} calib_votes SEC(".maps");

static __always_inline void calib_on_page(__u64 page, __u32 order)
{
	__u32 zero = 0;
	struct slk_calib_cpu *c = bpf_map_lookup_elem(&calib_cpu, &zero);

	if (!c)
		return;
	c->page = page;
	c->order = order;
}

/* A kmalloc right after a page allocation on this CPU: if it is that
 * compound page (size PAGE_SIZE << order, page aligned), vote for the delta.
 * An interrupt that allocated a page in between gives a wrong pair; it is
 * outvoted. */
static __always_inline void calib_on_kmalloc(__u64 ptr, __u64 bytes_alloc)
{
	__u32 zero = 0;
	struct slk_calib_cpu *c = bpf_map_lookup_elem(&calib_cpu, &zero);
	__u64 delta, one = 1, *n, page;

	if (!c || !c->page)
		return;
	page = c->page;
	c->page = 0;
	if (c->order < 1 || c->order > 10 || bytes_alloc != (4096ull << c->order) || (ptr & 4095))
		return;
	delta = page - (ptr >> SLK_PAGE_SHIFT) * bpf_core_type_size(struct page);
	n = bpf_map_lookup_elem(&calib_votes, &delta);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&calib_votes, &delta, &one, BPF_NOEXIST);
}

#endif /* SLABLEAK_SLAB_WALK_H */
