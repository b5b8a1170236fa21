#include <unistd.h>

#include <iostream>
#include <sstream>

#include "commands.h"
#include "report.h"
#include "signals.h"

namespace slableak {

int run_top(const SessionOptions& so, const ReportOptions& ro) {
  const SortKey sort = parse_sort_key(ro.sort);
  Session session(so);
  const bool tty = isatty(STDOUT_FILENO);
  Snapshot s;
  for (;;) {
    const bool more = session.wait(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(ro.interval_s)));
    s = session.collect(ro.min_age_s);
    sort_stacks(s.stacks, sort);
    std::ostringstream frame;
    write_table(frame, s, ro.top);
    // Clear and redraw on a terminal; a pipe gets one report per refresh.
    if (tty) std::cout << "\033[H\033[2J";
    else std::cout << "---\n";
    std::cout << frame.str() << std::flush;
    if (!more) break;
  }
  return 0;
}

}  // namespace slableak
