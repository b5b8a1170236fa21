#include <iostream>

#include "commands.h"
#include "live_session.h"
#include "report.h"
#include "units.h"

namespace slableak {

int run_snapshot(const RunConfig& c) {
  const auto& r = c.report;
  const double duration_s = r.duration.count(), min_age_s = r.min_age.count();
  auto session = open_live_session(c.trace);
  std::cerr << "slableak: tracing";
  for (const auto& name : c.trace.caches) std::cerr << ' ' << name;
  std::cerr << " for " << format_duration(duration_s) << " (cache method " << session->method()
            << "); Ctrl-C prints the report early\n";
  announce_ready(c.ready_fd, *session, c.trace.caches);
  // Read once a second so the growth rate has points to fit; a run shorter
  // than 10 s ten times over, so that the verdicts have their 4 reads.
  const double every_s = std::min(1.0, duration_s / 10);
  while (session->elapsed_s() < duration_s) {
    const double left = duration_s - session->elapsed_s();
    if (!session->wait(std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::duration<double>(std::min(every_s, left)))))
      break;
    if (session->elapsed_s() < duration_s) session->collect(min_age_s);
  }
  Snapshot s = session->collect(min_age_s);
  sort_stacks(s.stacks, r.sort);
  write_report(std::cout, s, r.format, r.top);
  std::cout.flush();
  return 0;
}

}  // namespace slableak
