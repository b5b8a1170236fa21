// Least privilege for the long-running exporter. Loading and attaching BPF
// programs needs root (or CAP_BPF + CAP_PERFMON, CAP_SYS_ADMIN on old
// kernels); what the exporter does afterwards (read its own maps through
// file descriptors it already holds, read /proc/slabinfo, write the
// textfile) needs far less. drop_capabilities() keeps only the capabilities
// that are proven necessary on this host:
//
//   1. lower the *effective* set to what is kept so far (the permitted set
//      still holds everything, so this can be undone);
//   2. run each need's check; if it fails, add that need's helper
//      capabilities one at a time until it passes;
//   3. commit: drop every other capability from the bounding set (an exec
//      cannot regain them), clear the ambient and inheritable sets, set
//      no_new_privs, and reduce permitted and effective to the kept set.
//
// capset() changes the calling thread only: call this before any other
// thread is started (the exporter starts its HTTP thread afterwards).
// Raw syscalls; no libcap.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace slableak {

struct CapabilityNeed {
  std::string what;  // "read /proc/slabinfo"
  // True when the thing works with the credentials in force; else false
  // with the reason in @why.
  std::function<bool(std::string* why)> check;
  // Capabilities (CAP_* numbers) that may make it work, added in order.
  std::vector<int> helpers;
};

struct CapabilityDrop {
  bool changed = false;          // the sets were reduced
  uint64_t effective_before = 0;  // bit masks, as in /proc/PID/status
  uint64_t effective_after = 0;
  uint64_t bounding_after = 0;
  std::vector<int> kept;
  std::string summary;  // one line for the log
};

// Throws a runtime Error if a need cannot be met even with its helpers (the
// capability sets are then restored as they were), or if the kernel refuses
// to reduce them.
CapabilityDrop drop_capabilities(const std::vector<CapabilityNeed>& needs);

// "CAP_BPF"; "cap_42" for numbers this build does not name.
std::string capability_name(int cap);

// Checks usable as CapabilityNeed::check.
// Opens @path and reads a byte.
bool can_read_file(const std::string& path, std::string* why);
// Whether the bpf() syscall accepts map commands on file descriptors we
// hold. Older kernels refuse every bpf() command with EPERM to a process
// without CAP_BPF (CAP_SYS_ADMIN before 5.8) while
// kernel.unprivileged_bpf_disabled is set (measured: Debian's 5.10 does,
// its 6.1, 6.12 and 6.18 check only the fd). Probed with a lookup on fd -1:
// EBADF means the gate let us through.
bool bpf_syscall_allowed(std::string* why);

// The capabilities the exporter may keep after attaching, for each need:
// what to try, in order.
std::vector<int> bpf_syscall_helpers();       // CAP_BPF, then CAP_SYS_ADMIN
std::vector<int> file_read_helpers();         // CAP_DAC_READ_SEARCH, then CAP_DAC_OVERRIDE
std::vector<int> directory_write_helpers();   // CAP_DAC_OVERRIDE, then CAP_FOWNER

}  // namespace slableak
