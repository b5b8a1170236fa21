#include <unistd.h>

#include <iostream>
#include <sstream>

#include "commands.h"
#include "live_session.h"
#include "report.h"

namespace slableak {

int run_top(const RunConfig& c) {
  const auto& r = c.report;
  auto session = open_live_session(c.trace);
  const bool tty = isatty(STDOUT_FILENO);
  Snapshot s;
  for (;;) {
    const bool more = session->wait(std::chrono::duration_cast<std::chrono::nanoseconds>(r.interval));
    s = session->collect(r.min_age.count());
    sort_stacks(s.stacks, r.sort);
    std::ostringstream frame;
    write_table(frame, s, r.top);
    // Clear and redraw on a terminal; a pipe gets one report per refresh.
    if (tty) std::cout << "\033[H\033[2J";
    else std::cout << "---\n";
    std::cout << frame.str() << std::flush;
    if (!more) break;
  }
  return 0;
}

}  // namespace slableak
