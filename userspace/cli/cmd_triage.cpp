// slableak triage: watch unreclaimable slab for a window, pick the caches
// whose growth explains it (model/triage.h), follow them, report each.
#include <unistd.h>

#include <iostream>

#include "cache_naming.h"
#include "commands.h"
#include "live_session.h"
#include "proc_files.h"
#include "report.h"
#include "signals.h"
#include "slab_sysfs.h"
#include "triage.h"
#include "units.h"

namespace slableak {
namespace {

TriageSample sample_host() {
  TriageSample s;
  s.slabinfo = read_host_slabinfo();
  const std::string meminfo = read_text_file("/proc/meminfo", kMaxMeminfoBytes);
  s.sunreclaim_bytes = parse_sunreclaim(meminfo);
  s.slab_bytes = parse_meminfo_bytes(meminfo, "Slab:");
  s.page_size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return s;
}

// The part of @s about one cache: its header and its stacks.
Snapshot only_cache(const Snapshot& s, const std::string& cache) {
  Snapshot out = s;
  out.caches.clear();
  out.stacks.clear();
  for (const auto& c : s.caches)
    if (c.name == cache) out.caches.push_back(c);
  for (const auto& st : s.stacks)
    if (st.cache == cache) out.stacks.push_back(st);
  return out;
}

}  // namespace

int run_triage(const RunConfig& c) {
  const double window_s = c.triage.window.count();
  const bool table = c.report.format == Format::table;
  std::ostream& verdict_out = table ? std::cout : std::cerr;  // json/folded stdout stays one document
  const TriageSample before = sample_host();
  std::cerr << "slableak: watching /proc/slabinfo and SUnreclaim for " << format_duration(window_s)
            << "; Ctrl-C stops\n";
  if (!sleep_unless_stopped(std::chrono::duration_cast<std::chrono::nanoseconds>(c.triage.window))) {
    std::cerr << "slableak: triage stopped before the window ended; nothing picked\n";
    return 0;
  }
  const TriageSample after = sample_host();
  const TriageVerdict v = triage(before, after, window_s, read_reclaimable_caches(cache_names(after.slabinfo)),
                                 c.triage.max_caches);
  verdict_out << describe_triage(v);
  verdict_out.flush();
  if (!v.growing) return 0;

  TraceOptions t = c.trace;
  t.caches.clear();
  for (const auto& p : v.picked) t.caches.push_back(p.name);
  const double duration_s = c.report.duration.count();
  auto session = open_live_session(t);
  std::cerr << "slableak: following them for " << format_duration(duration_s) << " (cache method "
            << session->method() << "); Ctrl-C prints the report early\n";
  announce_ready(c.ready_fd, *session, t.caches);
  while (session->elapsed_s() < duration_s) {
    const double left = duration_s - session->elapsed_s();
    if (!session->wait(std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::duration<double>(std::min(1.0, left)))))
      break;
    if (session->elapsed_s() < duration_s) session->collect();
  }
  Snapshot s = session->collect();
  sort_stacks(s.stacks, c.report.sort);
  if (!table) {
    write_report(std::cout, s, c.report.format, c.report.top);
    return 0;
  }
  for (const auto& p : v.picked) {
    std::cout << "\n=== " << p.name << " ===\n";
    write_report(std::cout, only_cache(s, p.name), c.report.format, c.report.top);
  }
  std::cout.flush();
  return 0;
}

}  // namespace slableak
