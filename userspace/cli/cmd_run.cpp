// slableak run [options] -- COMMAND [ARGS]: the reproducer-in-a-loop
// workflow. Attach, start COMMAND, trace while it runs and for --settle
// after it exits, then report what was allocated in that time and is still
// held. With --only-command, only COMMAND's process tree counts (a tgid
// filter in the kernel, bpf/task_filter.h). The exit status is COMMAND's.
#include <signal.h>

#include <cstdlib>
#include <iostream>

#include "child_command.h"
#include "commands.h"
#include "live_session.h"
#include "printable.h"
#include "report.h"
#include "signals.h"
#include "units.h"

namespace slableak {
namespace {

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + printable(a, 40);
  return printable(out, 120);
}

std::chrono::nanoseconds ns(double s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s));
}

}  // namespace

int run_command(const RunConfig& c) {
  const auto& rc = c.run;
  const auto& r = c.report;
  // Before anything is attached: a command that cannot run is the shell's
  // 127/126, one line.
  const char* path = std::getenv("PATH");
  const std::string file = find_command(rc.argv.front(), path ? path : "/usr/local/bin:/usr/bin:/bin");

  auto session = open_live_session(c.trace);
  ChildCommand child(file, rc.argv);
  if (c.trace.filter_tasks) session->allow_task(static_cast<uint32_t>(child.pid()));
  const std::string shown = command_line(rc.argv);
  std::cerr << "slableak: tracing";
  for (const auto& name : c.trace.caches) std::cerr << ' ' << name;
  std::cerr << " while '" << shown << "' runs" << (c.trace.filter_tasks ? " (its allocations only)" : "")
            << ", then " << format_duration(rc.settle.count()) << " more (cache method " << session->method()
            << ")\n";
  announce_ready(c.ready_fd, *session, c.trace.caches);
  child.start();
  const double started = session->elapsed_s();

  // Read about once a second, as snapshot does, so growth and verdicts
  // have a history; poll the command more often.
  std::optional<int> status;
  double next_read = started + 1;
  bool stopped = false;
  while (!(status = child.poll())) {
    if (!session->wait(std::chrono::milliseconds(100))) {
      stopped = true;
      break;
    }
    if (session->elapsed_s() >= next_read) {
      session->collect(r.min_age.count());
      next_read += 1;
    }
  }
  const double ran = session->elapsed_s() - started;
  if (stopped && !status) {
    // SIGINT/SIGTERM: the command is ours; pass the signal on (a terminal's
    // Ctrl-C already reached it) and give it a moment to finish.
    child.signal(stop_signal() ? stop_signal() : SIGTERM);
    status = child.wait_for(std::chrono::seconds(5));
    if (!status)
      std::cerr << "slableak: '" << shown << "' (pid " << child.pid() << ") still runs; reporting without it\n";
  }
  // Settle: frees that come after the exit (RCU callbacks, deferred work)
  // are given their time before what is still held is reported.
  if (!stopped) {
    const double until = session->elapsed_s() + rc.settle.count();
    while (session->elapsed_s() < until) {
      if (!session->wait(ns(std::min(1.0, until - session->elapsed_s())))) break;
      session->collect(r.min_age.count());
    }
  }
  Snapshot s = session->collect(r.min_age.count());
  sort_stacks(s.stacks, r.sort);
  write_report(std::cout, s, r.format, r.top);
  std::cout.flush();
  std::cerr << "slableak: '" << shown << "' ";
  if (status) std::cerr << "exited with status " << *status;
  else std::cerr << "was still running";
  std::cerr << " after " << format_duration(ran);
  if (const uint64_t lost = session->tasks_not_followed())
    std::cerr << "; " << lost << " of its processes were not followed (more than the filter holds)";
  std::cerr << "\n";
  if (status) return *status;
  return 128 + (stop_signal() ? stop_signal() : SIGTERM);
}

}  // namespace slableak
