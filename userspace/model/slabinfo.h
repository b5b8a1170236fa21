// /proc/slabinfo: which caches exist, their object sizes and active objects.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slableak {

struct SlabCache {
  std::string name;
  uint64_t active_objs = 0;
  uint64_t num_objs = 0;
  uint32_t objsize = 0;
  uint32_t pages_per_slab = 0;  // 0 if the line has no such field
  uint64_t num_slabs = 0;       // slabdata <num_slabs>; 0 if absent
};

// Parses the text of /proc/slabinfo (version 2.x). Malformed lines are
// skipped; the header lines are recognised and ignored.
std::vector<SlabCache> parse_slabinfo(std::string_view text);

const SlabCache* find_cache(const std::vector<SlabCache>& caches, std::string_view name);
std::vector<std::string> cache_names(const std::vector<SlabCache>& caches);

// Pages the slab caches of @caches hold (sum of num_slabs * pagesperslab).
uint64_t slab_pages(const std::vector<SlabCache>& caches);

}  // namespace slableak
