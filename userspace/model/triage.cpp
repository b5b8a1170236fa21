#include "triage.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "cache_naming.h"
#include "units.h"

namespace slableak {

TriageVerdict triage(const TriageSample& before, const TriageSample& after, double window_s,
                     const std::set<std::string>& reclaimable, size_t max_caches) {
  TriageVerdict v;
  v.window_s = window_s;
  if (before.sunreclaim_bytes >= 0 && after.sunreclaim_bytes >= 0)
    v.sunreclaim_delta = after.sunreclaim_bytes - before.sunreclaim_bytes;
  std::vector<CacheGrowth> grew, all;
  for (const auto& b : after.slabinfo) {
    if (reclaimable.count(b.name)) continue;
    const SlabCache* a = find_cache(before.slabinfo, b.name);
    const int64_t now = static_cast<int64_t>(b.active_objs);
    all.push_back({b.name, b.objsize, now, now * static_cast<int64_t>(b.objsize), 0});
    if (!a) continue;
    const int64_t d = now - static_cast<int64_t>(a->active_objs);
    if (d > 0) grew.push_back({b.name, b.objsize, d, d * static_cast<int64_t>(b.objsize), 0});
  }
  // kmalloc-large has no slabinfo line: its figure is Slab: minus the slab
  // caches' pages, per object unknown.
  const int64_t large_before = large_kmalloc_bytes(before), large_after = large_kmalloc_bytes(after);
  if (large_after >= 0) {
    const std::string large(kKmallocLarge);
    all.push_back({large, 0, 0, large_after, 0});
    // The figure lags by the vmstat counters' per-CPU batches: less than
    // the threshold is no growth of its own.
    if (large_before >= 0 && large_after - large_before >= kTriageMinGrowthBytes) grew.push_back({large, 0, 0, large_after - large_before, 0});
  }
  for (const auto& g : grew) v.growth_bytes += g.bytes;
  auto by_bytes = [](const CacheGrowth& x, const CacheGrowth& y) {
    return x.bytes != y.bytes ? x.bytes > y.bytes : x.name < y.name;
  };
  v.growing = v.growth_bytes >= kTriageMinGrowthBytes;
  if (v.growing) {
    std::sort(grew.begin(), grew.end(), by_bytes);
    int64_t explained = 0;
    for (auto& g : grew) {
      g.share = static_cast<double>(g.bytes) / static_cast<double>(v.growth_bytes);
      if (v.picked.size() >= max_caches || g.share < 0.05) break;
      if (explained >= v.growth_bytes * 8 / 10) break;
      explained += g.bytes;
      v.picked.push_back(g);
    }
  } else {
    std::sort(all.begin(), all.end(), by_bytes);
    if (all.size() > 10) all.resize(10);
    v.largest = all;
  }
  return v;
}

std::string describe_triage(const TriageVerdict& v) {
  std::ostringstream os;
  char line[256];
  const std::string sunre =
      v.sunreclaim_delta ? ", SUnreclaim " + std::string(v.sunreclaim_delta > 0 ? "+" : "-") +
                               format_bytes(static_cast<double>(std::llabs(v.sunreclaim_delta)))
                         : "";
  if (!v.growing) {
    os << "triage: no growth of unreclaimable slab in " << format_duration(v.window_s) << " (caches that grew: +"
       << format_bytes(static_cast<double>(v.growth_bytes)) << sunre << "); nothing to follow.\n"
       << "largest unreclaimable caches now:\n";
    for (const auto& c : v.largest) {
      const std::string objects = c.name == kKmallocLarge ? "-" : std::to_string(c.objects);
      std::snprintf(line, sizeof line, "  %-28s %10s objects  %10s\n", c.name.c_str(), objects.c_str(),
                    format_bytes(static_cast<double>(c.bytes)).c_str());
      os << line;
    }
    return os.str();
  }
  os << "triage: unreclaimable caches grew +" << format_bytes(static_cast<double>(v.growth_bytes)) << " in "
     << format_duration(v.window_s) << sunre << "; following:\n";
  for (const auto& c : v.picked) {
    if (c.name == kKmallocLarge) {
      std::snprintf(line, sizeof line, "  %-28s +%s of pages (Slab minus the slab caches' pages, %.0f%% of the growth)\n",
                    c.name.c_str(), format_bytes(static_cast<double>(c.bytes)).c_str(), 100 * c.share);
      os << line;
      continue;
    }
    std::snprintf(line, sizeof line, "  %-28s +%lld objects (+%s, %.0f%% of the growth)\n", c.name.c_str(),
                  static_cast<long long>(c.objects), format_bytes(static_cast<double>(c.bytes)).c_str(),
                  100 * c.share);
    os << line;
  }
  return os.str();
}

int64_t parse_meminfo_bytes(const std::string& meminfo, const std::string& want) {
  std::istringstream in(meminfo);
  std::string key;
  long long kib = 0;
  while (in >> key) {
    if (key == want && in >> kib) return static_cast<int64_t>(kib) * 1024;
    in.ignore(1 << 10, '\n');
  }
  return -1;
}

int64_t parse_sunreclaim(const std::string& meminfo) { return parse_meminfo_bytes(meminfo, "SUnreclaim:"); }

int64_t large_kmalloc_bytes(const TriageSample& s) {
  if (s.slab_bytes < 0 || s.slabinfo.empty()) return -1;
  for (const auto& c : s.slabinfo)
    if (c.pages_per_slab == 0) return -1;  // a line without slabdata: no page count
  const int64_t in_caches = static_cast<int64_t>(slab_pages(s.slabinfo) * s.page_size);
  return std::max<int64_t>(0, s.slab_bytes - in_caches);
}

}  // namespace slableak
