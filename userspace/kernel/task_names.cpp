#include "task_names.h"

#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "printable.h"

namespace slableak {
namespace {

// A cgroup tree of a large host has a few thousand directories; the walk
// stops here rather than follow something unbounded.
constexpr size_t kMaxCgroupDirs = 65536;

std::string comm_of(const slk_task_key& k) {
  return printable(std::string(k.comm, strnlen(k.comm, sizeof k.comm)), SLK_COMM_LEN);
}

}  // namespace

std::string TaskNames::name(const slk_task_key& k) {
  switch (mode_) {
    case TaskKey::comm: return comm_of(k);
    case TaskKey::pid: return std::to_string(k.id) + " " + comm_of(k);
    case TaskKey::cgroup: {
      auto it = cgroup_paths_.find(k.id);
      if (it == cgroup_paths_.end()) {
        wanted_[k.id] = true;
        find_cgroups();
        it = cgroup_paths_.find(k.id);
      }
      return it != cgroup_paths_.end() ? it->second : "cgroup " + std::to_string(k.id);
    }
    case TaskKey::none: break;
  }
  return "";
}

void TaskNames::find_cgroups() {
  namespace fs = std::filesystem;
  std::error_code ec;
  size_t seen = 0;
  const auto note = [&](const fs::path& p, const std::string& shown) {
    struct stat st{};
    if (::stat(p.c_str(), &st) != 0) return;
    auto it = wanted_.find(st.st_ino);
    if (it == wanted_.end()) return;
    cgroup_paths_[st.st_ino] = printable(shown, 200);
    wanted_.erase(it);
  };
  note(cgroup_root_, "/");
  for (fs::recursive_directory_iterator it(cgroup_root_, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end && !wanted_.empty() && seen < kMaxCgroupDirs; it.increment(ec)) {
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    ++seen;
    note(it->path(), "/" + fs::relative(it->path(), cgroup_root_, ec).string());
  }
  // Not found now (gone, or not a cgroup v2 id): asked again next time.
  wanted_.clear();
}

}  // namespace slableak
