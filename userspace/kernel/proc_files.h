// Reading text files from /proc and /sys. Thin on purpose: the parsers
// that get the text are pure and tested on their own.
#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "kallsyms.h"
#include "unique_fd.h"

namespace slableak {

// Every read is bounded: a file longer than @max_bytes (something such as
// /dev/zero bind-mounted over a /proc file) is an environment Error, not an
// allocation without end.
//   /proc/slabinfo: ~30 KiB on a large host, one line per cache.
//   /proc/kallsyms: 10-20 MiB with many modules (~200k symbols).
inline constexpr size_t kMaxSlabinfoBytes = size_t{16} << 20;
inline constexpr size_t kMaxKallsymsBytes = size_t{256} << 20;
//   /proc/meminfo: a few KiB.
inline constexpr size_t kMaxMeminfoBytes = size_t{1} << 20;
//   /proc/modules: one line per module (~100 bytes), a few thousand at most.
inline constexpr size_t kMaxModulesBytes = size_t{4} << 20;

// Throws an environment Error naming the file and the reason.
std::string read_text_file(const std::string& path, size_t max_bytes);
// The same, handing the text over in pieces (64 KiB) as it is read.
void read_file_chunks(const std::string& path, size_t max_bytes,
                      const std::function<void(std::string_view)>& consume);
// /proc/kallsyms parsed while it is read: the text is never held at once
// (see Kallsyms::Builder).
Kallsyms read_kallsyms(const std::string& path = "/proc/kallsyms");

// A file opened once and read from its start again on every read. For
// /proc/kallsyms and /proc/modules, which decide whether to show addresses
// by the credentials of whoever opened them, at open time: a descriptor
// opened before the exporter drops CAP_SYSLOG still shows them on every
// re-read, where a fresh open would read zeros.
class KeptFile {
 public:
  // Throws an environment Error naming the file if it cannot be opened.
  explicit KeptFile(std::string path);
  // The whole file as it is now, in pieces (bounded as read_file_chunks).
  void read_chunks(size_t max_bytes, const std::function<void(std::string_view)>& consume) const;
  std::string read(size_t max_bytes) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  UniqueFd fd_;
};
Kallsyms read_kallsyms(const KeptFile& file);

}  // namespace slableak
