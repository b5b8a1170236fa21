#include "new_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "unique_fd.h"

namespace slableak {
namespace {

// Names tried before giving up: a directory full of planted names is not
// worth a longer search.
constexpr int kMaxNames = 100;

}  // namespace

std::string write_new_file(const std::string& dir, const std::string& stem, const std::string& ext,
                           std::string_view content, std::string* error) {
  const auto fail = [&](const std::string& what, int e) {
    if (error) *error = what + ": " + std::strerror(e);
    return std::string();
  };
  const UniqueFd d(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!d) return fail("cannot open " + dir, errno);

  // The temporary file: a fresh regular file, never what is at the name.
  std::string tmp;
  UniqueFd fd;
  for (int i = 0; i < kMaxNames && !fd; ++i) {
    tmp = "." + stem + ext + (i ? "." + std::to_string(i) : "") + ".tmp";
    fd.reset(openat(d.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd && errno != EEXIST) return fail("cannot create " + tmp + " in " + dir, errno);
  }
  if (!fd) return fail("cannot create a temporary file in " + dir, EEXIST);
  const auto drop = [&](const std::string& what, int e) {
    unlinkat(d.get(), tmp.c_str(), 0);
    return fail(what, e);
  };
  for (size_t off = 0; off < content.size();) {
    const ssize_t n = ::write(fd.get(), content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return drop("cannot write " + tmp + " in " + dir, errno);
    off += static_cast<size_t>(n);
  }
  if (fd.close() != 0) return drop("cannot write " + tmp + " in " + dir, errno);

  // The first free final name; an existing one is never replaced.
  for (int i = 1; i <= kMaxNames; ++i) {
    const std::string name = stem + (i > 1 ? "-" + std::to_string(i) : "") + ext;
    if (renameat2(d.get(), tmp.c_str(), d.get(), name.c_str(), RENAME_NOREPLACE) == 0) return name;
    if (errno == EEXIST) continue;
    if (errno != EINVAL && errno != ENOSYS) return drop("cannot write " + name + " in " + dir, errno);
    // No RENAME_NOREPLACE on this filesystem: link() never replaces either.
    if (linkat(d.get(), tmp.c_str(), d.get(), name.c_str(), 0) == 0) {
      unlinkat(d.get(), tmp.c_str(), 0);
      return name;
    }
    if (errno != EEXIST) return drop("cannot write " + name + " in " + dir, errno);
  }
  return drop("cannot write " + stem + ext + " in " + dir + " (it and the next " + std::to_string(kMaxNames - 1) +
                  " names are taken)",
              EEXIST);
}

}  // namespace slableak
