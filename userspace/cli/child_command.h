// The command of `slableak run`: found like a shell finds it, started held
// at a gate so that the tracer knows its pid before it runs a single
// instruction of its own, and reaped by pid (never by name).
#pragma once
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace slableak {

// The file a shell would run for @name: @name itself if it holds a '/',
// else the first executable match in @path (a PATH value). Throws an Error
// with the shell's exit code: 127 not found, 126 found but not executable.
std::string find_command(const std::string& name, const std::string& path);

// Exit status as a shell reports it: the exit code, or 128 + the signal.
int shell_status(int wait_status);

class ChildCommand {
 public:
  // Forks; the child waits at the gate until start(). @file from find_command;
  // a file exec refuses as not a program (a script without "#!") runs with
  // /bin/sh, as a shell runs it.
  ChildCommand(const std::string& file, const std::vector<std::string>& argv);
  ~ChildCommand();  // a child still held at the gate is killed and reaped
  ChildCommand(const ChildCommand&) = delete;
  ChildCommand& operator=(const ChildCommand&) = delete;

  pid_t pid() const { return pid_; }
  // Opens the gate. Throws an Error (126/127) if exec failed; the child is
  // reaped by then.
  void start();
  // The shell status once the command exited; nullopt while it runs.
  std::optional<int> poll();
  // Waits up to @timeout for the exit.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  void signal(int sig);

 private:
  pid_t pid_ = -1;
  int gate_ = -1;       // write end: one byte lets the child exec
  int exec_error_ = -1;  // read end: errno of a failed exec, EOF on success
  bool started_ = false;
  std::optional<int> status_;
};

}  // namespace slableak
