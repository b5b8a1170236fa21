// How the kernel names kmalloc caches, and how a user's --cache maps onto
// what the BPF programs can test (size class, gfp type, exact name).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "slableak.h"

namespace slableak {

// The kmalloc cache types of bpf/slableak.h (enum slk_kmalloc_type), the
// values the BPF side tests, with C++ names.
enum class KmallocType : uint32_t {
  normal = SLK_KMALLOC_NORMAL,
  reclaim = SLK_KMALLOC_RECLAIM,
  cgroup = SLK_KMALLOC_CGROUP,
  dma = SLK_KMALLOC_DMA,
  large = SLK_KMALLOC_LARGE,  // the kmalloc-large pseudo cache
};

// The pseudo cache of kmallocs larger than the largest kmalloc cache: the
// kernel serves them from the page allocator (kmalloc_large), so no slab
// cache and no /proc/slabinfo line holds them. Their bytes count in
// /proc/meminfo Slab:/SUnreclaim: (5.9+), see large_kmalloc_bytes().
inline constexpr std::string_view kKmallocLarge = "kmalloc-large";

// The largest kmalloc size class this host serves from a slab cache (the
// largest kmalloc-N in @known_caches; 8192 if none is listed): requests
// above it are kmalloc-large.
uint32_t largest_kmalloc_class(const std::vector<std::string>& known_caches);

// Every kmalloc size class a kernel may serve from slab caches (8 B .. 8 KiB
// with 4 KiB pages). Not every kernel has them all: where the architecture's
// minimum kmalloc alignment is larger, the small classes do not exist (arm64
// before 6.5: ARCH_DMA_MINALIGN 128, so kmalloc-128 is the smallest and there
// is no kmalloc-96 or -192); see size_class_lower_bound's @known_caches.
const std::vector<uint32_t>& kmalloc_size_classes();

// Smallest size class holding a request of @bytes_req, as kmalloc picks it;
// nullopt above 8 KiB (those go to the page allocator).
std::optional<uint32_t> size_class_for(uint64_t bytes_req);
// Requests that land in @size_class are in (lower_bound, size_class].
uint32_t size_class_lower_bound(uint32_t size_class);
// The same on a host whose caches are @known_caches: the bound is the next
// smaller class this kernel has a kmalloc-N cache for (kmalloc-128 on an
// arm64 kernel without the small classes takes every request up to 128).
// Without any kmalloc-N in @known_caches, the full list above is assumed.
uint32_t size_class_lower_bound(uint32_t size_class, const std::vector<std::string>& known_caches);


// "kmalloc-2k", "kmalloc-cg-192", "kmalloc-rcl-1k", "dma-kmalloc-8k".
std::string kmalloc_cache_name(KmallocType type, uint32_t size_class);
// "2k" for 2048, "192" for 192.
std::string size_suffix(uint32_t size_class);

// What a cache name tells us without asking the kernel.
struct CacheName {
  enum class Kind {
    kmalloc,   // kmalloc-N, kmalloc-cg-N, kmalloc-rcl-N, dma-kmalloc-N
    random,    // kmalloc-rnd-NN-N (CONFIG_RANDOM_KMALLOC_CACHES, 6.6+)
    bucket,    // a kmem_buckets cache such as msg_msg-2k (CONFIG_SLAB_BUCKETS, 6.11+)
    large,     // kmalloc-large: kmallocs above the largest kmalloc cache (page allocator)
    other,     // a named cache (dentry, ...): not fed by kmalloc events
  };
  Kind kind = Kind::other;
  uint32_t size_class = 0;                 // 0 for Kind::other
  KmallocType type = KmallocType::normal;  // meaningful for kmalloc and random
};

// @known_caches: every cache name on the host; used to tell a bucket family
// (prefix-8 .. prefix-8k) from an unrelated cache that happens to end in a size.
CacheName classify_cache_name(std::string_view name, const std::vector<std::string>& known_caches);

// Up to @max names from @candidates closest to @name (edit distance, then
// shared prefix), for "did you mean" messages.
std::vector<std::string> similar_names(std::string_view name, const std::vector<std::string>& candidates,
                                       size_t max = 5);

}  // namespace slableak
