#include <iostream>

#include "commands.h"
#include "report.h"
#include "signals.h"
#include "units.h"

namespace slableak {

int run_snapshot(const SessionOptions& so, const ReportOptions& ro) {
  const Format format = parse_format(ro.format);
  const SortKey sort = parse_sort_key(ro.sort);
  Session session(so);
  std::cerr << "slableak: tracing";
  for (const auto& c : so.caches) std::cerr << ' ' << c;
  std::cerr << " for " << format_duration(ro.duration_s) << " (cache method " << session.method()
            << "); Ctrl-C prints the report early\n";
  // Read once a second so the growth rate has points to fit.
  while (session.elapsed_s() < ro.duration_s) {
    const double left = ro.duration_s - session.elapsed_s();
    if (!session.wait(std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::duration<double>(std::min(1.0, left)))))
      break;
    if (session.elapsed_s() < ro.duration_s) session.collect(ro.min_age_s);
  }
  Snapshot s = session.collect(ro.min_age_s);
  sort_stacks(s.stacks, sort);
  write_report(std::cout, s, format, ro.top);
  std::cout.flush();
  return 0;
}

}  // namespace slableak
