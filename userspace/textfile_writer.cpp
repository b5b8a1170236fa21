#include "textfile_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"

namespace slableak {
namespace {

std::string temp_name(const std::string& name) {
  // Leading dot and no .prom suffix: node_exporter ignores it.
  return "." + name + ".tmp." + std::to_string(getpid());
}

}  // namespace

TextfileWriter::TextfileWriter(std::string dir, std::string name)
    : dir_(std::move(dir)), name_(std::move(name)), path_(dir_ + "/" + name_) {
  dir_fd_ = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) {
    const int e = errno;
    throw usage_error("textfile directory " + dir_ + ": " + std::strerror(e) +
                      (e == ENOENT ? " (create it, or pass --textfile-dir)" : " (pass a directory with --textfile-dir)"));
  }
  // Prove we can create files there now, rather than at the first interval.
  const std::string probe = temp_name(name_);
  int fd = openat(dir_fd_, probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int e = errno;
    close(dir_fd_);
    dir_fd_ = -1;
    throw usage_error("textfile directory " + dir_ + " is not writable (" + std::strerror(e) +
                      "): fix its permissions or pass another --textfile-dir");
  }
  close(fd);
  unlinkat(dir_fd_, probe.c_str(), 0);
}

TextfileWriter::~TextfileWriter() {
  if (dir_fd_ >= 0) close(dir_fd_);
}

bool TextfileWriter::write(const std::string& content, std::string* error) {
  const std::string tmp = temp_name(name_);
  auto fail = [&](const char* what, int e, int fd) {
    if (fd >= 0) close(fd);
    unlinkat(dir_fd_, tmp.c_str(), 0);
    if (error) *error = std::string(what) + " " + dir_ + "/" + tmp + ": " + std::strerror(e);
    return false;
  };
  // A leftover temp file (or a symlink planted at its name) is removed, not
  // followed: O_EXCL|O_NOFOLLOW then creates a fresh regular file.
  unlinkat(dir_fd_, tmp.c_str(), 0);
  int fd = openat(dir_fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot create", errno, -1);
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
