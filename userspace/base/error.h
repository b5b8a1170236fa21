// Errors and exit codes. Every failure that reaches the user is one of these;
// main() is the only place that turns them into an exit status.
#pragma once
#include <stdexcept>
#include <string>

namespace slableak {

enum class Exit : int {
  ok = 0,
  runtime = 1,      // something failed while running
  usage = 2,        // bad command line
  environment = 3,  // host cannot run us: not root, no BTF, ...
  // `run`: COMMAND could not be started, as a shell reports it.
  cannot_execute = 126,
  not_found = 127,
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
