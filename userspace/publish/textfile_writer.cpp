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

UniqueFd TextfileWriter::take_lock(int dir_fd, std::string* error, bool* held) const {
  *held = false;
  const std::string lock = lock_name();
  const std::string where = dir_ + "/" + lock;
  // Create it if it is not there; an existing name is opened without
  // following a symlink, and checked below before anything is written to it.
  UniqueFd fd(openat(dir_fd, lock.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, kFileMode));
  if (!fd && errno == EEXIST) fd.reset(openat(dir_fd, lock.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd && (errno == EACCES || errno == EPERM))  // someone else's lock file: reading is enough to flock
    fd.reset(openat(dir_fd, lock.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    const int e = errno;
    *error = "cannot open the lock file " + where + ": " + std::strerror(e) +
             (e == ELOOP ? " (it is a symlink: remove it)" : "");
    return {};
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    *error = "the lock file " + where + " is not a regular file: remove it";
    return {};
  }
  if (st.st_nlink != 1) {
    *error = "the lock file " + where + " has " + std::to_string(st.st_nlink) +
             " hard links (one planted to make us overwrite another file?): remove it";
    return {};
  }
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    if (e != EWOULDBLOCK) {
      *error = "cannot lock " + where + ": " + std::strerror(e);
      return {};
    }
    char buf[32] = {};
    const ssize_t n = pread(fd.get(), buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    *held = true;
    *error = "another slableak exporter" + (all_digits(holder) ? " (pid " + holder + ")" : std::string()) +
             " is already writing " + path_ + " (it holds " + where + ")";
    return {};
  }
  // Our PID, for the message a second exporter prints. Only into a file we
  // own: a lock file of another user is only read.
  if (st.st_uid == geteuid()) {
    const std::string pid = std::to_string(getpid()) + "\n";
    if (pwrite(fd.get(), pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size()) &&
        ftruncate(fd.get(), static_cast<off_t>(pid.size())) == 0) {
      // Informational only: the lock is what counts.
    }
  }
  return fd;
}

void TextfileWriter::remove_stale_temp_files() const {
  // Temporary files of writers that were killed mid-write: nobody else
  // writes here while we hold the lock, so every one of them is stale.
  UniqueFd scan_fd(dup(dir_fd_.get()));
  if (DIR* d = scan_fd ? fdopendir(scan_fd.get()) : nullptr) {
    scan_fd.release();  // the DIR owns it now
    const std::string prefix = "." + name_ + ".tmp.";
    while (const dirent* ent = readdir(d)) {
      const std::string n = ent->d_name;
      if (n.size() > prefix.size() && n.compare(0, prefix.size(), prefix) == 0 && all_digits(n.substr(prefix.size())))
        unlinkat(dir_fd_.get(), n.c_str(), 0);  // removes a planted symlink itself, never its target
    }
    closedir(d);
  }
}

TextfileWriter::TextfileWriter(std::string dir, std::string name)
    : dir_(std::move(dir)), name_(std::move(name)), path_(dir_ + "/" + name_) {
  dir_fd_.reset(open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd_) {
    const int e = errno;
    // Missing may come right by itself (a package install creates it, a
    // mount comes later): the restartable exit. Anything else needs a person.
    if (e == ENOENT)
      throw Error(Exit::restart, "textfile directory " + dir_ + ": " + std::strerror(e) +
                                     " (create it, or pass --textfile-dir)");
    throw usage_error("textfile directory " + dir_ + ": " + std::strerror(e) + " (pass a directory with --textfile-dir)");
  }
  struct stat st {};
  fstat(dir_fd_.get(), &st);
  dir_dev_ = st.st_dev;
  dir_ino_ = st.st_ino;
  auto give_up = [](const std::string& msg) { return usage_error(msg); };

  // Prove we can create files there now, rather than at the first interval.
  std::string why;
  if (!probe(&why))
    throw give_up("textfile directory " + dir_ + " is not writable (" + why +
                  "): fix its permissions or pass another --textfile-dir");

  // One exporter per directory.
  bool held = false;
  lock_fd_ = take_lock(dir_fd_.get(), &why, &held);
  if (!lock_fd_) throw give_up(held ? why + ": stop it, or give this one another --textfile-dir" : why);
  remove_stale_temp_files();
}

bool TextfileWriter::follow_directory(std::string* error) {
  struct stat now {};
  if (stat(dir_.c_str(), &now) != 0) {
    const int e = errno;
    *error = "textfile directory " + dir_ + " is gone (" + std::strerror(e) + "): not written; writing resumes when it is back";
    return false;
  }
  if (now.st_dev == dir_dev_ && now.st_ino == dir_ino_) return true;
  // A new directory at the name: open it, and take its lock before writing.
  UniqueFd fd(open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    const int e = errno;
    lost_ = true;
    *error = "textfile directory " + dir_ + " was replaced and cannot be opened (" + std::strerror(e) + "): not written";
    return false;
  }
  struct stat opened {};
  fstat(fd.get(), &opened);
  bool held = false;
  std::string why;
  UniqueFd lock = take_lock(fd.get(), &why, &held);
  if (!lock) {
    // Another exporter on the new directory is left to it; anything else
    // (a read-only view of it, above all) will not change for this process.
    lost_ = !held;
    *error = "textfile directory " + dir_ + " was re-created, and " + why + ": not written";
    return false;
  }
  lost_ = false;
  dir_fd_ = std::move(fd);
  lock_fd_ = std::move(lock);  // the old directory's lock is released here
  dir_dev_ = opened.st_dev;
  dir_ino_ = opened.st_ino;
  remove_stale_temp_files();
  return true;
}

bool TextfileWriter::probe(std::string* error) const {
  const std::string tmp = temp_name();
  unlinkat(dir_fd_.get(), tmp.c_str(), 0);
  UniqueFd fd(openat(dir_fd_.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kFileMode));
  if (!fd) {
    if (error) *error = std::strerror(errno);
    return false;
  }
  fd.reset();
  unlinkat(dir_fd_.get(), tmp.c_str(), 0);
  return true;
}

bool TextfileWriter::write(const std::string& content, std::string* error) {
  std::string why;
  if (!follow_directory(&why)) {
    if (error) *error = why;
    return false;
  }
  const std::string tmp = temp_name();
  const int dir = dir_fd_.get();
  auto fail = [&](const char* what, int e) {
    unlinkat(dir, tmp.c_str(), 0);
    if (error) *error = std::string(what) + " " + dir_ + "/" + tmp + ": " + std::strerror(e);
    return false;
  };
  // A leftover temp file (or a symlink planted at its name) is removed, not
  // followed: O_EXCL|O_NOFOLLOW then creates a fresh regular file.
  unlinkat(dir, tmp.c_str(), 0);
  UniqueFd fd(openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kFileMode));
  if (!fd) return fail("cannot create", errno);
  if (fchmod(fd.get(), kFileMode) != 0) return fail("cannot chmod", errno);
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write", errno);
    }
    off += static_cast<size_t>(n);
  }
  if (fsync(fd.get()) != 0) return fail("cannot fsync", errno);
  if (fd.close() != 0) return fail("cannot close", errno);
  // rename() replaces the name itself: a symlink planted at the target is
  // replaced, its target never written.
  if (renameat(dir, tmp.c_str(), dir, name_.c_str()) != 0) return fail("cannot rename", errno);
  return true;
}

bool TextfileWriter::remove(std::string* error) {
  // The file we wrote is in the directory we hold; if DIR was replaced
  // meanwhile, the one at the name now is not ours to remove.
  if (unlinkat(dir_fd_.get(), name_.c_str(), 0) == 0 || errno == ENOENT) return true;
  if (error) *error = "cannot remove " + path_ + ": " + std::strerror(errno);
  return false;
}

}  // namespace slableak
