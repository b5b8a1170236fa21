// The one place where errors become exit codes (base/error.h).
#include <iostream>

#include "commands.h"
#include "error.h"
#include "live_session.h"
#include "signals.h"

using namespace slableak;

int main(int argc, char** argv) {
  try {
    const ParseResult parsed = parse_run_config(argc, argv);
    if (!parsed.config) {
      std::cout << parsed.text;
      return parsed.exit_code;
    }
    const RunConfig& c = *parsed.config;
    check_ready_fd(c.ready_fd);
    install_stop_handlers();
    switch (c.command) {
      case Command::snapshot: return run_snapshot(c);
      case Command::top: return run_top(c);
      case Command::export_metrics: return run_export(c);
      case Command::caches: return run_caches(c);
      case Command::check: return run_check(c);
      case Command::triage: return run_triage(c);
      case Command::run: return run_command(c);
      case Command::diff: return run_diff(c);
      case Command::captures: return run_captures(c);
    }
  } catch (const Error& e) {
    std::cerr << "slableak: " << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "slableak: " << e.what() << "\n";
    return static_cast<int>(Exit::runtime);
  }
  return static_cast<int>(Exit::runtime);
}
