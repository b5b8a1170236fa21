// --by: the names of the task slots the kernel handed out (bpf/task_key.h),
// for the report: a comm as is, a process as "PID COMM", a cgroup as its
// path under the cgroup v2 mount (its id is the inode of that directory).
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>

#include "slableak.h"
#include "trace_config.h"

namespace slableak {

class TaskNames {
 public:
  explicit TaskNames(TaskKey mode, std::string cgroup_root = "/sys/fs/cgroup")
      : mode_(mode), cgroup_root_(std::move(cgroup_root)) {}
  // The name of one slot's task; a cgroup not found (removed since) is
  // "cgroup ID".
  std::string name(const slk_task_key& k);

 private:
  // Walks the cgroup tree (bounded) for the directories of the ids in
  // wanted_ not yet found.
  void find_cgroups();
  TaskKey mode_;
  std::string cgroup_root_;
  std::unordered_map<uint64_t, std::string> cgroup_paths_;  // at most one per slot (255)
  std::unordered_map<uint64_t, bool> wanted_;
};

}  // namespace slableak
