// Errors and exit codes. Every failure that reaches the user is one of these;
// main() is the only place that turns them into an exit status.
#pragma once
#include <stdexcept>
#include <string>

namespace slableak {

// Every exit status slableak itself chooses, with its value. docs/cli.md and
// the man page list the same (tests/ops/cli_reference_test.py).
//   ok, runtime (something failed while running), usage (bad command line),
//   environment (the host cannot run us: not root, no BTF, ...);
//   restart: export met a cause that may pass (textfile directory missing, or
//     replaced by one this process cannot write; --listen port taken): retry;
//   cannot_execute, not_found: `run`'s COMMAND could not be started, as a
//     shell reports it.
#define SLK_EXIT_CODES(X) \
  X(ok, 0) X(runtime, 1) X(usage, 2) X(environment, 3) X(restart, 4) X(cannot_execute, 126) X(not_found, 127)

enum class Exit : int {
#define SLK_EXIT_ENUM(name, value) name = value,
  SLK_EXIT_CODES(SLK_EXIT_ENUM)
#undef SLK_EXIT_ENUM
};

class Error : public std::runtime_error {
 public:
  Error(Exit code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  Exit code() const { return code_; }

 private:
  Exit code_;
};

// A value the user typed is wrong; the message names the fix.
inline Error usage_error(const std::string& msg) { return Error(Exit::usage, msg); }
// The host is missing something we need; the message names the fix.
inline Error env_error(const std::string& msg) { return Error(Exit::environment, msg); }
inline Error runtime_error(const std::string& msg) { return Error(Exit::runtime, msg); }

}  // namespace slableak
