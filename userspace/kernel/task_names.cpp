#include "task_names.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <vector>

#include "error.h"
#include "printable.h"
#include "proc_files.h"

namespace slableak {
namespace {

// A cgroup tree of a large host has a few thousand directories; the walk
// stops here rather than follow something unbounded.
constexpr size_t kMaxCgroupDirs = 65536;
// /proc/self/mountinfo: ~150 bytes a mount; a container host has thousands.
constexpr size_t kMaxMountinfoBytes = size_t{16} << 20;

// mountinfo writes a space, tab, newline and backslash in a path as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto octal = [&](size_t at, char top) { return s[at] >= '0' && s[at] <= top; };
    if (s[i] == '\\' && s.size() - i > 3 && octal(i + 1, '3') && octal(i + 2, '7') && octal(i + 3, '7')) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Never cut: a comm is at most 15 bytes, 60 characters when every byte is
// escaped, so comms that differ anywhere are named apart (a cut at 16
// characters named "\x01\x01\x01\x01A" and "...B" alike).
std::string comm_of(const slk_task_key& k) {
  static_assert(4 * (sizeof k.comm - 1) <= 64);
  return printable(std::string(k.comm, strnlen(k.comm, sizeof k.comm)), 64);
}

}  // namespace

std::string TaskNames::name(const slk_task_key& k) {
  switch (mode_) {
    case TaskKey::comm: return comm_of(k);
    case TaskKey::pid: return std::to_string(k.id) + " " + comm_of(k);
    case TaskKey::cgroup: {
      auto it = cgroup_paths_.find(k.id);
      if (it == cgroup_paths_.end()) {
        const auto now = std::chrono::steady_clock::now();
        const auto miss = missing_.find(k.id);
        if (miss == missing_.end() || now >= miss->second) {
          wanted_[k.id] = true;
          find_cgroups();
          it = cgroup_paths_.find(k.id);
          if (it == cgroup_paths_.end())
            missing_[k.id] = now + kRetryMissing;
          else
            missing_.erase(k.id);
        }
      }
      return it != cgroup_paths_.end() ? it->second : "cgroup " + std::to_string(k.id);
    }
    case TaskKey::none: break;
  }
  return "";
}

std::optional<Cgroup2Mount> find_cgroup2_mount(std::string_view mountinfo) {
  std::optional<Cgroup2Mount> first;
  while (!mountinfo.empty()) {
    const size_t nl = mountinfo.find('\n');
    const std::string_view line = mountinfo.substr(0, nl);
    mountinfo.remove_prefix(nl == std::string_view::npos ? mountinfo.size() : nl + 1);
    // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    std::vector<std::string_view> f;
    for (size_t at = 0; at < line.size();) {
      const size_t sp = std::min(line.find(' ', at), line.size());
      if (sp > at) f.push_back(line.substr(at, sp - at));
      at = sp + 1;
    }
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 7 || dash + 1 >= f.size() || f[dash + 1] != "cgroup2") continue;
    unsigned maj = 0, min = 0;
    const size_t colon = f[2].find(':');
    if (colon == std::string_view::npos ||
        std::from_chars(f[2].data(), f[2].data() + colon, maj).ec != std::errc() ||
        std::from_chars(f[2].data() + colon + 1, f[2].data() + f[2].size(), min).ec != std::errc())
      continue;
    Cgroup2Mount m{unescape_octal(f[4]), unescape_octal(f[3]), makedev(maj, min)};
    if (m.root == "/") return m;
    if (!first) first = std::move(m);
  }
  return first;
}

void TaskNames::find_cgroups() {
  namespace fs = std::filesystem;
  std::optional<Cgroup2Mount> mount;
  try {
    mount = find_cgroup2_mount(read_text_file(mountinfo_, kMaxMountinfoBytes));
  } catch (const Error&) {
  }
  // Not found now (gone, no cgroup2 mount): asked again next time.
  if (!mount) {
    wanted_.clear();
    return;
  }
  const std::string prefix = mount->root == "/" ? "" : mount->root;
  std::error_code ec;
  size_t seen = 0;
  // A directory of the cgroup2 mount only: a mount inside it (another
  // hierarchy, anything) numbers its directories alike.
  const fs::path root = mount->mount_point;
  // The shown path is built on a match only: most directories are not one.
  const auto note = [&](const fs::path& p) {
    struct stat st{};
    if (::lstat(p.c_str(), &st) != 0 || st.st_dev != mount->dev) return false;
    auto it = wanted_.find(st.st_ino);
    if (it != wanted_.end()) {
      const std::string shown = p == root ? mount->root : prefix + "/" + p.lexically_relative(root).string();
      cgroup_paths_[st.st_ino] = printable(shown, 200);
      wanted_.erase(it);
    }
    return true;
  };
  if (note(root)) {
    for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end && !wanted_.empty() && seen < kMaxCgroupDirs; it.increment(ec)) {
      if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
      ++seen;
      if (!note(it->path())) it.disable_recursion_pending();
    }
  }
  wanted_.clear();
}

}  // namespace slableak
