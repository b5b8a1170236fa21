// The OOM trigger: bpf/oom_watch.bpf.c on the oom:mark_victim tracepoint,
// read through its ring buffer. Opened, loaded and attached by the
// constructor (needs CAP_BPF and CAP_PERFMON, as the unit grants), detached
// by the destructor.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture_plan.h"

struct oom_watch_bpf;
struct ring_buffer;

namespace slableak {

class OomWatch {
 public:
  // Throws a runtime Error with the reason (no such tracepoint, not
  // permitted) if the program cannot be loaded or attached.
  OomWatch();
  ~OomWatch();
  OomWatch(const OomWatch&) = delete;
  OomWatch& operator=(const OomWatch&) = delete;

  // The victims marked since the last call (never blocks; at most 64).
  // Where the event does not name the task (5.10), comm and cgroup come
  // from /proc/PID while it still exists.
  std::vector<OomVictim> drain();
  // Events the ring buffer had no room for.
  uint64_t lost() const;

 private:
  struct SkelDeleter {
    void operator()(oom_watch_bpf* s) const;
  };
  struct RingDeleter {
    void operator()(ring_buffer* r) const;
  };
  std::unique_ptr<oom_watch_bpf, SkelDeleter> skel_;
  std::unique_ptr<ring_buffer, RingDeleter> ring_;
  std::vector<OomVictim> pending_;
  static int on_event(void* ctx, void* data, size_t size);
};

// The cgroup v2 path of process @pid ("/system.slice/x.service"), from
// /proc/PID/cgroup; on a hybrid host where that is "/", the v1 memory
// controller's path as "memory:/path"; "" if it cannot be read.
std::string process_cgroup_path(int32_t pid);

}  // namespace slableak
