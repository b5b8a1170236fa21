// --by: the names of the task slots the kernel handed out (bpf/task_key.h),
// for the report: a comm as is, a process as "PID COMM", a cgroup as its
// path in the cgroup v2 hierarchy (its id is the inode number of that
// directory on the cgroup2 mount, and on that mount only: other hierarchies
// number their directories alike).
#pragma once
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "slableak.h"
#include "trace_config.h"

namespace slableak {

// A cgroup2 mount as /proc/self/mountinfo lists it.
struct Cgroup2Mount {
  std::string mount_point;  // "/sys/fs/cgroup"; "/sys/fs/cgroup/unified" on a hybrid v1+v2 host
  std::string root;         // the cgroup it shows: "/" unless bind-mounted or in a cgroup namespace
  dev_t dev = 0;            // its device (MAJ:MIN)
};

// The cgroup2 mount of mountinfo text: the first that shows the root "/",
// else the first; nullopt without one (a cgroup v1 only host).
std::optional<Cgroup2Mount> find_cgroup2_mount(std::string_view mountinfo);

class TaskNames {
 public:
  explicit TaskNames(TaskKey mode, std::string mountinfo = "/proc/self/mountinfo")
      : mode_(mode), mountinfo_(std::move(mountinfo)) {}
  // The name of one slot's task; a cgroup not found (removed since) is
  // "cgroup ID".
  std::string name(const slk_task_key& k);

 private:
  // Walks the cgroup2 mount (bounded, that device only) for the
  // directories of the ids in wanted_ not yet found.
  void find_cgroups();
  TaskKey mode_;
  std::string mountinfo_;
  std::unordered_map<uint64_t, std::string> cgroup_paths_;  // at most one per slot (255)
  std::unordered_map<uint64_t, bool> wanted_;
  // Ids the last walk did not find (a cgroup removed since its task
  // allocated): walked for again only after kRetryMissing, not on every
  // refresh of every view. At most one per slot, like cgroup_paths_.
  static constexpr std::chrono::seconds kRetryMissing{60};
  std::unordered_map<uint64_t, std::chrono::steady_clock::time_point> missing_;
};

}  // namespace slableak
