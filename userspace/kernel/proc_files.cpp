#include "proc_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"
#include "unique_fd.h"

namespace slableak {

void read_file_chunks(const std::string& path, const std::function<void(std::string_view)>& consume) {
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const int e = errno;
    throw env_error("cannot read " + path + ": " + std::strerror(e) +
                    (e == EACCES || e == EPERM ? " (run slableak as root)" : ""));
  }
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw env_error("cannot read " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    consume(std::string_view(buf, static_cast<size_t>(n)));
  }
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
