/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Kernel-version shims for the kmem tracepoints.
 *
 * slableak attaches tp_btf (exact method, 6.13+) or raw_tp (derived method,
 * any kernel) programs; both get the tracepoint's TP_PROTO arguments as an
 * array of u64. The leading arguments we use have kept
 * their positions since the events exist:
 *   kmalloc / kmalloc_node: (call_site, ptr, bytes_req, bytes_alloc, gfp_flags, ...)
 *   kfree:                  (call_site, ptr)
 *   kmem_cache_free:        (call_site, ptr, ...)
 * What changed, and how we cope:
 *   - v5.12 (commit 3544de8ee6e4 "mm, tracing: record slab name for
 *     kmem_cache_free()") added the cache name as 3rd kmem_cache_free arg;
 *     v6.1 (commit b347aa7b1b9b) made it the struct kmem_cache *. We only read
 *     it in the kfunc method, which needs 6.13+, where it is the pointer.
 *   - v6.1 (commit 11e9734bcb6a "mm/slab_common: unify NUMA and UMA version
 *     of tracepoints") removed kmalloc_node; the loader disables the _node
 *     program where btf_trace_kmalloc_node does not exist.
 *   - v5.19 widened gfp_t in the classic tracepoint record; tp_btf passes it
 *     as a u64 slot either way and the flag bits we test are all below bit 23.
 *   - v6.13 added the bpf_get_kmem_cache() kfunc (exact cache of an address).
 */
#ifndef SLABLEAK_CORE_SHIMS_H
#define SLABLEAK_CORE_SHIMS_H

/* gfp bits that choose the kmalloc cache type (include/linux/gfp_types.h).
 * Their values have not changed between 5.10 and 6.18. */
#define SLK_GFP_DMA 0x01u
#define SLK_GFP_RECLAIMABLE 0x10u
#define SLK_GFP_ACCOUNT 0x400000u

/* The slab walk (slab_walk.h) reads struct page / struct slab; what moved:
 *   - v5.17 (Matthew Wilcox, "mm: Split slab into its own type", the start
 *     of the struct slab series) took slab_cache out of struct page into
 *     struct slab (mm/slab.h), which overlays the slab's head page. Before,
 *     the head page itself carries slab_cache: struct page___pre517.
 *   - v6.10 ("mm: free up PG_slab") made "is a slab" a page type instead of
 *     the PG_slab page flag: enum pageflags___pre610 is the flag's bit;
 *     in 6.10/6.11 page_type holds inverted bits under PAGE_TYPE_BASE
 *     (enum pagetype___v610).
 *   - v6.12 ("mm: support only one page_type per page") keeps the type in
 *     the top byte of page_type: PGTY_slab (vmlinux.h has it).
 * Field offsets come from CO-RE; the flavour suffix (___x) is dropped when
 * libbpf matches names, so these resolve to the running kernel's types. */
struct page___pre517 {
	struct kmem_cache *slab_cache;
};

/* page->flags was an unsigned long until v6.18 wrapped it in memdesc_flags_t
 * (which vmlinux.h has); CO-RE refuses to match a struct against an integer. */
struct page___pre610 {
	unsigned long flags;
};

enum pageflags___pre610 {
	PG_slab___pre610 = 7,
};

enum pagetype___v610 {
	PG_slab___v610 = 0x02000000,
	PAGE_TYPE_BASE___v610 = 0x80000000,
};

/* libbpf 1.1 predates bpf_ksym_exists(). */
#define slk_ksym_exists(sym) (!!&(sym))

#endif
