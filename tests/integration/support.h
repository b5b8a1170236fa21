// Helpers for integration tests: BPF availability (skip, or fail under
// CI=true), child processes we start and end by PID, and a check that no
// slableak program is left in the kernel.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "snapshot.h"

namespace slableak::test {

// Empty if this host can load our programs, else why not.
std::string bpf_unavailable_reason();
bool running_in_ci();

// Skips the test where BPF is unavailable; under CI=true that is a failure.
#define REQUIRE_BPF()                                                            \
  do {                                                                           \
    const std::string why_ = ::slableak::test::bpf_unavailable_reason();         \
    if (!why_.empty()) {                                                         \
      if (::slableak::test::running_in_ci()) FAIL() << "CI=true but " << why_;    \
      GTEST_SKIP() << why_;                                                      \
    }                                                                            \
  } while (0)

// Skips the test (also under CI=true: it asserts what only 6.13+ kernels
// can do) where the kernel lacks the bpf_get_kmem_cache kfunc.
bool kernel_has_kmem_cache_kfunc();
#define REQUIRE_KFUNC()                                                                           \
  do {                                                                                            \
    if (!::slableak::test::kernel_has_kmem_cache_kfunc())                                         \
      GTEST_SKIP() << "this kernel has no bpf_get_kmem_cache (6.13+): the kfunc method cannot run"; \
  } while (0)

// What a child process runs without, in a private mount namespace.
inline constexpr unsigned kHideTracefs = 1;  // tracefs unmounted
inline constexpr unsigned kHideBtf = 2;      // /sys/kernel/btf empty: no vmlinux BTF for anyone

// A child process with pipes on stdin, stdout and stderr, and a pipe on
// descriptor 3 for `slableak --ready-fd 3` (wait_ready).
class Child {
 public:
  // @drop_to_uid >= 0: setuid to it before exec (for the not-root test).
  // @hide: kHideTracefs | kHideBtf, see above.
  Child(const std::vector<std::string>& argv, int drop_to_uid = -1, unsigned hide = 0);
  ~Child();  // SIGTERM, then SIGKILL, of this PID only
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void write_line(const std::string& line);
  void close_stdin();
  // Reads stdout until a line starting with @prefix; returns it, or "" on
  // timeout or EOF.
  std::string wait_stdout_line(const std::string& prefix, std::chrono::milliseconds timeout);
  // Same on stderr.
  std::string wait_stderr_line(const std::string& prefix, std::chrono::milliseconds timeout);
  // The readiness line written to descriptor 3 (slableak --ready-fd 3), or ""
  // if none came within @timeout or the child closed it without one.
  std::string wait_ready(std::chrono::milliseconds timeout);
  // Waits for exit, collecting the rest of stdout/stderr; returns the exit
  // status (128+signal if killed), or -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout);
  void signal(int sig);
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  bool pump(std::chrono::milliseconds timeout);
  std::string take_line(std::string& buf, size_t& consumed, const std::string& prefix);
  std::string wait_line(std::string& buf, size_t& seen, const std::string& prefix, std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  int in_ = -1, outfd_ = -1, errfd_ = -1, readyfd_ = -1;
  std::string out_, err_;
  size_t out_seen_ = 0, err_seen_ = 0;
  int status_ = -1;
};

// A holder (tests/support/holder.c) keeping COUNT objects of a vector.
class Holder {
 public:
  Holder(const std::string& vector, unsigned count);
  void release();  // frees everything, waits for "released"
 private:
  Child child_;
};

// Result of running the slableak binary to completion.
struct RunResult {
  int status = -1;
  std::string out, err;
};
// Runs @argv (stdin closed) to completion or @timeout.
RunResult run_command(const std::vector<std::string>& argv,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60), int drop_to_uid = -1,
                      unsigned hide = 0);
RunResult run_slableak(const std::vector<std::string>& args, std::chrono::milliseconds timeout = std::chrono::seconds(60),
                 int drop_to_uid = -1, unsigned hide = 0);

// BPF programs in the kernel that are slableak's: those that use a map of
// its BPF object (named "slableak.*" by libbpf).
int loaded_slableak_programs();
// slableak programs that no live process holds (through a program or link
// fd): only a pin could keep those, i.e. a leak. Other slableak instances
// running at the same time do not count. Waits up to @timeout for the kernel
// to free programs whose last reference just went (RCU-deferred).
int slableak_programs_after(std::chrono::milliseconds timeout);

// True if a frame of @s is in function @fn ("fn+0x..").
bool has_function(const StackReport& s, const std::string& fn);
// The same for a stack of a JSON report.
bool has_function(const nlohmann::json& stack, const std::string& fn);
// Objects held by the stacks of a JSON report that pass through @fn, in
// @cache ("" = any cache).
int64_t objects_under(const nlohmann::json& report, const std::string& fn, const std::string& cache = "");
// The same for a Snapshot, in one @cache: objects, bytes and allocations of
// the stacks that pass through @fn.
struct Under {
  int64_t objects = 0;
  int64_t bytes = 0;
  uint64_t allocs = 0;
};
Under under(const Snapshot& s, const std::string& cache, const std::string& fn);

// A loopback TCP port free at the time of the call (bound, read, closed).
int free_port();
// A fresh 0755 directory under /tmp named @prefix.XXXXXX.
std::string make_temp_dir(const std::string& prefix);
// The whole file, or "" if it cannot be read.
std::string read_file(const std::string& path);

std::string slableak_bin();
std::string holder_bin();

}  // namespace slableak::test
