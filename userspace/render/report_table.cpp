// The human report: a header per cache that says how much of the slab growth
// is explained, then the stacks, then tracer health (every drop, by reason).
#include <cstdio>
#include <string>
#include <vector>

#include "report.h"
#include "units.h"

namespace slableak {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string signed_count(int64_t v) { return (v > 0 ? "+" : "") + std::to_string(v); }

}  // namespace

void write_table(std::ostream& os, const Snapshot& s, size_t top) {
  os << "slableak: " << format_duration(s.elapsed_s) << " traced; cache method: " << method_description(s)
     << "\n";
  if (s.estimated())
    os << "sampling: 1 in " << s.sample_every << " allocations tracked; counts below are estimates (x"
       << s.sample_every << ")\n";
  os << "\n";
  char line[512];
  std::snprintf(line, sizeof line, "%-22s %8s %14s %12s %12s %10s\n", "CACHE", "OBJSIZE", "SLABINFO-DELTA",
                "ATTRIBUTED", "BYTES", "EXPLAINED");
  os << line;
  for (const auto& c : s.caches) {
    const int64_t delta = c.slab_active_now - c.slab_active_start;
    const std::string explained = delta > 0 ? fmt("%.0f%%", 100 * c.explained_ratio()) : "-";
    // "<=": an upper bound (reasons below the table).
    const std::string attributed = (c.upper_bound() ? "<=" : "") + std::to_string(c.attributed_objects);
    std::snprintf(line, sizeof line, "%-22s %8u %14s %12s %12s %10s\n", c.name.c_str(), c.object_size,
                  c.in_slabinfo ? signed_count(delta).c_str() : "n/a", attributed.c_str(),
                  format_bytes(static_cast<double>(c.attributed_bytes)).c_str(), explained.c_str());
    os << line;
  }
  // Where a row is not simply the name that was asked for, say so.
  for (const auto& c : s.caches) {
    std::vector<std::string> others;  // names whose objects this cache also holds
    if (!c.merged_as.empty()) others.push_back(c.name);
    for (const auto& n : c.shares_with)
      if (("," + c.merged_as + ",").find("," + n + ",") == std::string::npos &&
          (", " + c.merged_as + ",").find(", " + n + ",") == std::string::npos)
        others.push_back(n);
    if (c.merged_as.empty() && others.empty()) continue;
    os << "  " << (c.merged_as.empty() ? c.name : c.merged_as);
    if (!c.merged_as.empty()) os << ": merged by the kernel into " << c.name << ", followed through it";
    if (!others.empty()) {
      std::string all;
      for (const auto& n : others) all += (all.empty() ? "" : ", ") + n;
      os << (c.merged_as.empty() ? ": " : "; ") << "objects of " << all << " share the cache and are counted too";
    }
    os << "\n";
  }
  for (const auto& f : family_totals(s)) {
    std::snprintf(line, sizeof line, "family %s: %zu caches, slabinfo %s, attributed %lld objects (%s)\n",
                  f.name.c_str(), f.members.size(), signed_count(f.slab_delta).c_str(),
                  static_cast<long long>(f.attributed_objects),
                  format_bytes(static_cast<double>(f.attributed_bytes)).c_str());
    os << line;
  }
  for (const auto& c : s.caches)
    for (const auto& why : c.upper_bound_reasons) os << "upper bound (" << c.name << "): " << why << "\n";
  os << "\n";
  size_t shown = 0;
  for (const auto& st : s.stacks) {
    if (top && shown >= top) break;
    // The table is for what is held; freed-up stacks stay in JSON/metrics.
    if (st.objects <= 0) continue;
    ++shown;
    // --by: who allocated, after the cache ("kmalloc-2k  comm holder").
    const std::string cache = st.task.empty() ? st.cache : st.cache + "  " + s.by + " " + st.task;
    std::snprintf(line, sizeof line, "#%zu %s  %s  %lld objects  %s  oldest %s  growth %s/s (%s/s)  allocs %llu frees %llu  id %s\n",
                  shown, cache.c_str(), verdict_name(st.verdict), static_cast<long long>(st.objects),
                  format_bytes(static_cast<double>(st.bytes)).c_str(),
                  st.objects > 0 ? format_duration(st.oldest_age_s).c_str() : "-",
                  fmt("%+.1f", st.growth_objects_per_s).c_str(), format_bytes(st.growth_bytes_per_s).c_str(),
                  static_cast<unsigned long long>(st.allocs), static_cast<unsigned long long>(st.frees),
                  st.stack_id.c_str());
    os << line;
    if (!st.verdict_evidence.empty()) os << "    " << verdict_name(st.verdict) << ": " << st.verdict_evidence << "\n";
    for (const auto& f : st.frames) os << "    " << f << "\n";
  }
  if (shown == 0) os << "no outstanding allocations attributed yet\n";
  const auto& h = s.health;
  os << '\n';
  for (const std::string_view group : {"tracer", "drops"}) {
    os << group << ':';
    const char* sep = " ";
    for (const auto& c : kTracerCounters) {
      if (c.group != group) continue;
      os << sep << c.text << ' ' << h.counters[c.id];
      sep = ", ";
    }
    os << '\n';
  }
  // Which programs the kernel skipped (their sum is "recursion misses" above).
  if (h.counters[TracerCounter::recursion_misses] > 0) {
    os << "recursion misses by program (the kernel's count):";
    const char* sep = " ";
    for (const auto& p : h.programs)
      if (p.kernel_counts && p.recursion_misses > 0) {
        os << sep << p.program << ' ' << p.recursion_misses;
        sep = ", ";
      }
    os << '\n';
  } else if (!h.programs.empty() && !sum_misses(h.programs).kernel_counts) {
    os << "recursion misses " << miss_source(h.programs) << "\n";
  }
  // Where fingerprints are off, say why: a higher cost per allocation and no
  // stack from a fingerprint are then expected, not a fault.
  if (!s.stack_fingerprints.empty() && s.stack_fingerprints != "on")
    os << "stack fingerprints " << s.stack_fingerprints << " (every tracked allocation unwound)\n";
  os << "maps: live " << h.live_objects << "/" << h.live_capacity << ", aggregates " << h.agg_entries << "/"
     << h.agg_capacity << ", stacks " << h.stack_entries << "/" << h.stack_capacity << ", kernel memory "
     << format_bytes(static_cast<double>(h.kernel_map_bytes)) << "\n";
  if (!s.slabinfo_error.empty())
    os << "slabinfo: " << s.slabinfo_error << " (" << s.slabinfo_errors
       << " unusable reads so far); the comparison with /proc/slabinfo is left out\n";
}

}  // namespace slableak
