#include "proc_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"
#include "unique_fd.h"

namespace slableak {

namespace {

UniqueFd open_or_throw(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const int e = errno;
    throw env_error("cannot read " + path + ": " + std::strerror(e) +
                    (e == EACCES || e == EPERM ? " (run slableak as root)" : ""));
  }
  return fd;
}

// From offset 0 to the end with pread(): the file position is not used, so a
// kept descriptor reads the whole file again each time.
void read_fd_chunks(int fd, const std::string& path, size_t max_bytes,
                    const std::function<void(std::string_view)>& consume) {
  char buf[65536];
  size_t total = 0;
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof buf, static_cast<off_t>(total));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw env_error("cannot read " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
    if (total > max_bytes)
      throw env_error(path + " is longer than " + std::to_string(max_bytes >> 20) +
                      " MiB, far beyond any real one: is another file mounted over it?");
    consume(std::string_view(buf, static_cast<size_t>(n)));
  }
}

}  // namespace

void read_file_chunks(const std::string& path, size_t max_bytes,
                      const std::function<void(std::string_view)>& consume) {
  const UniqueFd fd = open_or_throw(path);
  read_fd_chunks(fd.get(), path, max_bytes, consume);
}

std::string read_text_file(const std::string& path, size_t max_bytes) {
  std::string out;
  read_file_chunks(path, max_bytes, [&out](std::string_view chunk) { out.append(chunk); });
  return out;
}

Kallsyms read_kallsyms(const std::string& path) {
  Kallsyms::Builder b;
  read_file_chunks(path, kMaxKallsymsBytes, [&b](std::string_view chunk) { b.feed(chunk); });
  return b.finish();
}

KeptFile::KeptFile(std::string path) : path_(std::move(path)), fd_(open_or_throw(path_)) {}

void KeptFile::read_chunks(size_t max_bytes, const std::function<void(std::string_view)>& consume) const {
  read_fd_chunks(fd_.get(), path_, max_bytes, consume);
}

std::string KeptFile::read(size_t max_bytes) const {
  std::string out;
  read_chunks(max_bytes, [&out](std::string_view chunk) { out.append(chunk); });
  return out;
}

Kallsyms read_kallsyms(const KeptFile& file) {
  Kallsyms::Builder b;
  file.read_chunks(kMaxKallsymsBytes, [&b](std::string_view chunk) { b.feed(chunk); });
  return b.finish();
}

}  // namespace slableak
