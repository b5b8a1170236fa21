#include <cstdio>
#include <iostream>

#include "cache_naming.h"
#include "commands.h"
#include "live_session.h"
#include "slab_sysfs.h"

namespace slableak {

int run_caches(const RunConfig&) {
  const auto caches = read_host_slabinfo();
  const auto names = cache_names(caches);
  std::printf("%-28s %8s %12s %12s  %s\n", "NAME", "OBJSIZE", "ACTIVE", "TOTAL", "KIND");
  for (const auto& c : caches) {
    const auto cn = classify_cache_name(c.name, names);
    const char* kind = "named (kmem_cache_alloc)";
    switch (cn.kind) {
      case CacheName::Kind::kmalloc: kind = "kmalloc"; break;
      case CacheName::Kind::random: kind = "kmalloc random (exact method only)"; break;
      case CacheName::Kind::bucket: kind = "kmalloc bucket (exact method only)"; break;
      case CacheName::Kind::other: break;
    }
    std::printf("%-28s %8u %12llu %12llu  %s\n", c.name.c_str(), c.objsize,
                static_cast<unsigned long long>(c.active_objs), static_cast<unsigned long long>(c.num_objs), kind);
  }
  // SLUB-merged names: not in /proc/slabinfo, followed through their cache.
  const auto links = read_slab_links();
  for (const auto& [name, target] : links) {
    if (find_cache(caches, name)) continue;
    for (const auto& c : caches) {
      const auto l = links.find(c.name);
      if (l == links.end() || l->second != target) continue;
      std::printf("%-28s %8u %12s %12s  merged into %s\n", name.c_str(), c.objsize, "-", "-", c.name.c_str());
      break;
    }
  }
  return 0;
}

}  // namespace slableak
