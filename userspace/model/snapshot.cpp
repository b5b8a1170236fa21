#include "snapshot.h"

#include <algorithm>

#include "cache_naming.h"
#include "trace_config.h"

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

std::string method_name(CacheMethod m) {
  for (const auto& [name, method] : kCacheMethodNames)
    if (method == m) return name;
  return "auto";
}

std::string method_description(const std::string& method) {
  if (method == "kfunc") return "exact: bpf_get_kmem_cache() names the cache of every object";
  if (method == "slab") return "exact: the slab of every object names its cache (struct page walk)";
  if (method == "derived") return "derived: cache inferred from size class and gfp flags (a guess: see the caches it cannot tell apart)";
  return method;
}

std::string method_description(const Snapshot& s) {
  std::string d = method_description(s.method);
  if (std::any_of(s.caches.begin(), s.caches.end(), [](const CacheHeader& c) { return c.name == kKmallocLarge; }))
    d += "; kmalloc-large by requested size (above the largest kmalloc cache)";
  return d;
}

}  // namespace slableak

namespace slableak {

std::vector<FamilyTotal> family_totals(const Snapshot& s) {
  std::vector<FamilyTotal> out;
  for (const auto& c : s.caches) {
    if (c.family.empty()) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const FamilyTotal& f) { return f.name == c.family; });
    if (it == out.end()) {
      out.push_back(FamilyTotal{c.family, {}, 0, 0, 0});
      it = out.end() - 1;
    }
    it->members.push_back(c.name);
    it->attributed_objects += c.attributed_objects;
    it->attributed_bytes += c.attributed_bytes;
    if (c.in_slabinfo) it->slab_delta += c.slab_active_now - c.slab_active_start;
  }
  return out;
}

}  // namespace slableak
