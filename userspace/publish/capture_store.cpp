#include "capture_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "capture_plan.h"
#include "error.h"

namespace slableak {
namespace {

constexpr mode_t kDirMode = 0750;
constexpr mode_t kFileMode = 0640;
const std::string kTempPrefix = ".tmp-";

std::string errno_text(int e) { return std::strerror(e); }

// Names in a directory, "." and ".." left out.
std::vector<std::string> entries(int dir_fd) {
  std::vector<std::string> out;
  UniqueFd scan(openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DIR* d = scan ? fdopendir(scan.get()) : nullptr;
  if (!d) return out;
  scan.release();  // the DIR owns it now
  while (const dirent* ent = readdir(d)) {
    const std::string n = ent->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  closedir(d);
  return out;
}

// Removes DIR/@name and the plain files in it (a capture has no
// subdirectories; symlinks are removed, never followed).
bool remove_capture_dir(int dir_fd, const std::string& name) {
  UniqueFd sub(openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub) return unlinkat(dir_fd, name.c_str(), 0) == 0;  // not a directory: a file or link
  for (const auto& n : entries(sub.get())) unlinkat(sub.get(), n.c_str(), 0);
  return unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) == 0;
}

uint64_t capture_bytes(int dir_fd, const std::string& name) {
  UniqueFd sub(openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub) return 0;
  uint64_t total = 0;
  for (const auto& n : entries(sub.get())) {
    struct stat st {};
    if (fstatat(sub.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
      total += static_cast<uint64_t>(st.st_size);
  }
  return total;
}

bool write_all(int fd, const std::string& s, int* err) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

// A temporary directory ".tmp-PID-NAME" whose writer is gone (killed
// mid-capture): removed on start. One whose writer still runs (a second
// exporter on this directory, say an operator's `export --once`) is that
// writer's capture in progress and stays. Other ".tmp-" names (a probe, an
// older version's) have no writer to wait for.
bool left_by_a_dead_writer(const std::string& n) {
  const std::string rest = n.substr(kTempPrefix.size());
  const size_t dash = rest.find('-');
  if (dash == 0 || dash == std::string::npos || dash > 9 ||
      !std::all_of(rest.begin(), rest.begin() + static_cast<long>(dash), [](char c) { return c >= '0' && c <= '9'; }))
    return true;
  const pid_t pid = static_cast<pid_t>(std::stol(rest.substr(0, dash)));
  return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

CaptureStore::CaptureStore(std::string dir, size_t keep, uint64_t max_bytes)
    : dir_(std::move(dir)), keep_(keep), max_bytes_(max_bytes) {
  if (mkdir(dir_.c_str(), kDirMode) != 0 && errno != EEXIST) {
    const int e = errno;
    throw usage_error("capture directory " + dir_ + " cannot be created (" + errno_text(e) +
                      "): create it, or pass another --capture-dir");
  }
  std::string why;
  UniqueFd fd = open_dir(&why);
  if (!fd) throw usage_error(why + ": pass a writable directory with --capture-dir");
  if (!probe(&why))
    throw usage_error("capture directory " + dir_ + " is not writable (" + why +
                      "): fix its permissions or pass another --capture-dir");
  for (const auto& n : entries(fd.get()))
    if (n.compare(0, kTempPrefix.size(), kTempPrefix) == 0 && left_by_a_dead_writer(n)) remove_capture_dir(fd.get(), n);
}

UniqueFd CaptureStore::open_dir(std::string* error) const {
  UniqueFd fd(open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    const int e = errno;
    *error = "capture directory " + dir_ + " cannot be opened (" + errno_text(e) + ")";
  }
  return fd;
}

bool CaptureStore::probe(std::string* error) const {
  std::string why;
  UniqueFd fd = open_dir(&why);
  if (!fd) {
    if (error) *error = why;
    return false;
  }
  const std::string tmp = kTempPrefix + "probe." + std::to_string(getpid());
  unlinkat(fd.get(), tmp.c_str(), AT_REMOVEDIR);
  if (mkdirat(fd.get(), tmp.c_str(), kDirMode) != 0) {
    if (error) *error = errno_text(errno);
    return false;
  }
  unlinkat(fd.get(), tmp.c_str(), AT_REMOVEDIR);
  return true;
}

bool CaptureStore::write(const std::string& name, const std::vector<CaptureFile>& files, std::string* error) {
  std::string why;
  UniqueFd dir = open_dir(&why);
  if (!dir) {
    *error = why + ": capture " + name + " not written";
    return false;
  }
  const std::string tmp = kTempPrefix + std::to_string(getpid()) + "-" + name;
  remove_capture_dir(dir.get(), tmp);  // a leftover of ours, if any
  const auto fail = [&](const std::string& what, int e) {
    remove_capture_dir(dir.get(), tmp);
    *error = "capture " + name + " not written to " + dir_ + ": " + what + " (" + errno_text(e) + ")";
    return false;
  };
  if (mkdirat(dir.get(), tmp.c_str(), kDirMode) != 0) return fail("cannot create " + tmp, errno);
  UniqueFd sub(openat(dir.get(), tmp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub) return fail("cannot open " + tmp, errno);
  for (const auto& f : files) {
    UniqueFd fd(openat(sub.get(), f.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kFileMode));
    if (!fd) return fail("cannot create " + f.name, errno);
    int e = 0;
    if (!write_all(fd.get(), f.content, &e)) return fail("writing " + f.name, e);
    if (fsync(fd.get()) != 0) return fail("fsync of " + f.name, errno);
    if (fd.close() != 0) return fail("closing " + f.name, errno);
  }
  if (fsync(sub.get()) != 0) return fail("fsync of " + tmp, errno);
  if (renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) != 0) return fail("renaming " + tmp, errno);
  if (fsync(dir.get()) != 0) {
    // The capture is complete under its name; only its survival of a
    // crash in the next seconds is in doubt.
    *error = "capture " + name + " written to " + dir_ + " but fsync of the directory failed (" + errno_text(errno) + ")";
    apply_retention(dir.get());
    return false;
  }
  apply_retention(dir.get());
  return true;
}

void CaptureStore::apply_retention(int dir_fd) {
  std::vector<StoredCapture> stored;
  for (const auto& n : entries(dir_fd))
    if (parse_capture_name(n)) stored.push_back({n, capture_bytes(dir_fd, n)});
  bool any = false;
  for (const auto& n : captures_to_remove(std::move(stored), keep_, max_bytes_))
    if (remove_capture_dir(dir_fd, n)) {
      ++removed_;
      any = true;
    }
  if (any) fsync(dir_fd);
}

std::vector<std::pair<std::string, uint64_t>> CaptureStore::list(const std::string& dir) {
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    const int e = errno;
    // A bad argument, as a missing file is to `diff`: exit 2.
    throw usage_error("capture directory " + dir + ": " + errno_text(e) +
                      ": give the directory that export --capture-dir writes (the unit's, "
                      "/var/lib/slableak/captures, exists once the exporter has run with it)");
  }
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& n : entries(fd.get()))
    if (parse_capture_name(n)) out.emplace_back(n, capture_bytes(fd.get(), n));
  std::sort(out.begin(), out.end());
  return out;
}

std::string CaptureStore::read(const std::string& dir, const std::string& capture, const std::string& file,
                               size_t max_bytes) {
  const std::string path = dir + "/" + capture + "/" + file;
  // O_NONBLOCK: a FIFO planted in a capture must not hang `slableak
  // captures`; it is refused below, as anything but a regular file is.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    const int e = errno;
    throw env_error(path + ": " + errno_text(e));
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) throw env_error(path + ": not a regular file");
  std::string out;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      throw env_error(path + ": " + errno_text(e));
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) throw env_error(path + ": larger than expected");
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace slableak
