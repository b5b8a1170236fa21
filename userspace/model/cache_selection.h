// Turns the user's --cache names into what the BPF programs test, refusing
// names the host does not have or the chosen method cannot tell apart.
#pragma once
#include <string>
#include <vector>

#include <cstdint>

#include "cache_naming.h"
#include "slabinfo.h"

namespace slableak {

struct CacheSelection {
  std::string name;
  uint32_t req_lo = 0;  // kmalloc requests in (req_lo, req_hi] land in this size class
  uint32_t req_hi = 0;
  KmallocType type = KmallocType::normal;
};

// @exact: the kernel can name the cache of an address (bpf_get_kmem_cache).
// Throws a usage Error (unknown name with suggestions, not a kmalloc cache,
// duplicate) or an environment Error (needs the exact method).
std::vector<CacheSelection> select_caches(const std::vector<std::string>& requested,
                                          const std::vector<SlabCache>& slabinfo, bool exact);

}  // namespace slableak
