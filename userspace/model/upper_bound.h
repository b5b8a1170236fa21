// When a cache's outstanding counts can be too high, and why.
//
// Some frees fire no per-object event: batched kfree_rcu (it ends in
// kfree_bulk), kmem_cache_free_bulk, slab sheaves, kfree_nolock; and a free
// event can be lost when a BPF program is already running on that CPU
// (recursion). Such an object stays counted until the allocator hands its
// address out again (an implicit free). Counts are then upper bounds: every
// output says so for each cache where it happened, with these reasons.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace slableak {

struct UnannouncedFrees {
  uint64_t implicit_frees = 0;         // of this cache, retired when the address came back
  uint64_t free_recursion_misses = 0;  // free events lost, any cache (the kernel does not say which)
};

// Empty when the counts are exact as far as the tracer can tell.
std::vector<std::string> upper_bound_reasons(const UnannouncedFrees& f);

}  // namespace slableak
