#include "proc_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"
#include "unique_fd.h"

namespace slableak {

void read_file_chunks(const std::string& path, size_t max_bytes,
                      const std::function<void(std::string_view)>& consume) {
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const int e = errno;
    throw env_error("cannot read " + path + ": " + std::strerror(e) +
                    (e == EACCES || e == EPERM ? " (run slableak as root)" : ""));
  }
  char buf[65536];
  size_t total = 0;
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
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

}  // namespace slableak
