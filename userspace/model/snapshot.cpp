#include "snapshot.h"

namespace slableak {

std::string age_bucket_label(size_t i) {
  static const char* labels[] = {"10s", "1m", "10m", "1h", "6h", "1d", "+Inf"};
  return i < kAgeBuckets ? labels[i] : "+Inf";
}

double CacheHeader::explained_ratio() const {
  const int64_t delta = slab_active_now - slab_active_start;
  if (delta <= 0) return 0;
  return static_cast<double>(attributed_objects) / static_cast<double>(delta);
}

std::string method_description(const std::string& method) {
  if (method == "kfunc") return "exact: bpf_get_kmem_cache() names the cache of every object";
  if (method == "derived") return "derived: cache inferred from size class and gfp flags (no bpf_get_kmem_cache on this kernel)";
  return method;
}

}  // namespace slableak
