#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cache_naming.h"
#include "commands.h"
#include "live_session.h"
#include "proc_files.h"
#include "slab_sysfs.h"
#include "triage.h"
#include "units.h"

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
      case CacheName::Kind::large:
      case CacheName::Kind::other: break;
    }
    std::printf("%-28s %8u %12llu %12llu  %s\n", c.name.c_str(), c.objsize,
                static_cast<unsigned long long>(c.active_objs), static_cast<unsigned long long>(c.num_objs), kind);
  }
  // The pseudo cache: no slabinfo line; its bytes are Slab: minus the
  // caches' pages (model/triage.h large_kmalloc_bytes), objects unknown.
  TriageSample now;
  now.slabinfo = caches;
  now.slab_bytes = parse_meminfo_bytes(read_text_file("/proc/meminfo", kMaxMeminfoBytes), "Slab:");
  now.page_size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const int64_t large = large_kmalloc_bytes(now);
  const std::string held = large >= 0 ? format_bytes(static_cast<double>(large)) + " held now" : "held bytes unknown";
  std::printf("%-28s %8s %12s %12s  kmalloc above kmalloc-%s: page allocator, %s\n", std::string(kKmallocLarge).c_str(),
              "-", "-", "-", size_suffix(largest_kmalloc_class(names)).c_str(), held.c_str());
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
