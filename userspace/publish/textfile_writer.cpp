#include "textfile_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"

namespace slableak {
namespace {

// The mode node_exporter (another user) needs to read the file, whatever
// the umask of whoever started us.
constexpr mode_t kFileMode = 0644;

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

// Leading dot and no .prom suffix: node_exporter ignores both.
std::string TextfileWriter::temp_name() const { return "." + name_ + ".tmp." + std::to_string(getpid()); }
std::string TextfileWriter::lock_name() const { return "." + name_ + ".lock"; }

TextfileWriter::TextfileWriter(std::string dir, std::string name)
    : dir_(std::move(dir)), name_(std::move(name)), path_(dir_ + "/" + name_) {
  dir_fd_ = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) {
    const int e = errno;
    throw usage_error("textfile directory " + dir_ + ": " + std::strerror(e) +
                      (e == ENOENT ? " (create it, or pass --textfile-dir)" : " (pass a directory with --textfile-dir)"));
  }
  auto give_up = [this](const std::string& msg) {
    if (lock_fd_ >= 0) close(lock_fd_);
    close(dir_fd_);
    lock_fd_ = dir_fd_ = -1;
    return usage_error(msg);
  };

  // Prove we can create files there now, rather than at the first interval.
  std::string why;
  if (!probe(&why))
    throw give_up("textfile directory " + dir_ + " is not writable (" + why +
                  "): fix its permissions or pass another --textfile-dir");

  // One exporter per directory.
  const std::string lock = lock_name();
  lock_fd_ = openat(dir_fd_, lock.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, kFileMode);
  if (lock_fd_ < 0 && (errno == EACCES || errno == EPERM))  // someone else's lock file: reading is enough to flock
    lock_fd_ = openat(dir_fd_, lock.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (lock_fd_ < 0) {
    const int e = errno;
    throw give_up("cannot open the lock file " + dir_ + "/" + lock + ": " + std::strerror(e) +
                  (e == ELOOP ? " (it is a symlink: remove it)" : ""));
  }
  struct stat st {};
  if (fstat(lock_fd_, &st) != 0 || !S_ISREG(st.st_mode))
    throw give_up("the lock file " + dir_ + "/" + lock + " is not a regular file: remove it");
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    if (e != EWOULDBLOCK)
      throw give_up("cannot lock " + dir_ + "/" + lock + ": " + std::strerror(e));
    char buf[32] = {};
    const ssize_t n = pread(lock_fd_, buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    throw give_up("another slableak exporter" + (all_digits(holder) ? " (pid " + holder + ")" : std::string()) +
                  " is already writing " + path_ + " (it holds " + dir_ + "/" + lock +
                  "): stop it, or give this one another --textfile-dir");
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(lock_fd_, 0) == 0 && pwrite(lock_fd_, pid.data(), pid.size(), 0) < 0) {
    // Informational only: the lock is what counts.
  }

  // Temporary files of writers that were killed mid-write: nobody else
  // writes here while we hold the lock, so every one of them is stale.
  const int scan_fd = dup(dir_fd_);
  if (DIR* d = scan_fd >= 0 ? fdopendir(scan_fd) : nullptr) {
    const std::string prefix = "." + name_ + ".tmp.";
    while (const dirent* ent = readdir(d)) {
      const std::string n = ent->d_name;
      if (n.size() > prefix.size() && n.compare(0, prefix.size(), prefix) == 0 && all_digits(n.substr(prefix.size())))
        unlinkat(dir_fd_, n.c_str(), 0);  // removes a planted symlink itself, never its target
    }
    closedir(d);
  } else if (scan_fd >= 0) {
    close(scan_fd);
  }
}

TextfileWriter::~TextfileWriter() {
  if (lock_fd_ >= 0) close(lock_fd_);  // releases the lock
  if (dir_fd_ >= 0) close(dir_fd_);
}

bool TextfileWriter::probe(std::string* error) const {
  const std::string tmp = temp_name();
  unlinkat(dir_fd_, tmp.c_str(), 0);
  const int fd = openat(dir_fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kFileMode);
  if (fd < 0) {
    if (error) *error = std::strerror(errno);
    return false;
  }
  close(fd);
  unlinkat(dir_fd_, tmp.c_str(), 0);
  return true;
}

bool TextfileWriter::write(const std::string& content, std::string* error) {
  const std::string tmp = temp_name();
  auto fail = [&](const char* what, int e, int fd) {
    if (fd >= 0) close(fd);
    unlinkat(dir_fd_, tmp.c_str(), 0);
    if (error) *error = std::string(what) + " " + dir_ + "/" + tmp + ": " + std::strerror(e);
    return false;
  };
  // A leftover temp file (or a symlink planted at its name) is removed, not
  // followed: O_EXCL|O_NOFOLLOW then creates a fresh regular file.
  unlinkat(dir_fd_, tmp.c_str(), 0);
  int fd = openat(dir_fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kFileMode);
  if (fd < 0) return fail("cannot create", errno, -1);
  if (fchmod(fd, kFileMode) != 0) return fail("cannot chmod", errno, fd);
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write", errno, fd);
    }
    off += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return fail("cannot fsync", errno, fd);
  if (close(fd) != 0) return fail("cannot close", errno, -1);
  // rename() replaces the name itself: a symlink planted at the target is
  // replaced, its target never written.
  if (renameat(dir_fd_, tmp.c_str(), dir_fd_, name_.c_str()) != 0) return fail("cannot rename", errno, -1);
  return true;
}

void TextfileWriter::remove() { unlinkat(dir_fd_, name_.c_str(), 0); }

}  // namespace slableak
