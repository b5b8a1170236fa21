#include "proc_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"

namespace slableak {

void read_file_chunks(const std::string& path, const std::function<void(std::string_view)>& consume) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    throw env_error("cannot read " + path + ": " + std::strerror(e) +
                    (e == EACCES || e == EPERM ? " (run slableak as root)" : ""));
  }
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      close(fd);
      throw env_error("cannot read " + path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    try {
      consume(std::string_view(buf, static_cast<size_t>(n)));
    } catch (...) {
      close(fd);
      throw;
    }
  }
  close(fd);
}

std::string read_text_file(const std::string& path) {
  std::string out;
  read_file_chunks(path, [&out](std::string_view chunk) { out.append(chunk); });
  return out;
}

Kallsyms read_kallsyms(const std::string& path) {
  Kallsyms::Builder b;
  read_file_chunks(path, [&b](std::string_view chunk) { b.feed(chunk); });
  return b.finish();
}

}  // namespace slableak
