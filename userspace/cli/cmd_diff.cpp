// slableak diff BEFORE.json AFTER.json: what changed between two reports
// (a fix that worked, a leak that came with an upgrade). No BPF, no root:
// the two files are read, checked to be reports of one contract version,
// compared (model/report_diff) and written as a table or JSON.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "commands.h"
#include "diff_output.h"
#include "error.h"
#include "printable.h"
#include "report_reader.h"
#include "unique_fd.h"

namespace slableak {
namespace {

// A report of 100,000 stacks is about 100 MiB of JSON; anything larger is
// not one of ours, and is refused before it is held in memory.
constexpr size_t kMaxReportBytes = size_t{256} << 20;

std::string read_report_file(const std::string& path) {
  const std::string shown = printable(path, 120);
  const auto fail = [&](const std::string& why) -> Error {
    return usage_error(shown + ": " + why + ": give a report written by 'slableak snapshot --format json'");
  };
  // O_NONBLOCK: opening a FIFO nobody writes to would wait forever.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) throw fail(std::strerror(errno));
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) throw fail(std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw fail("a directory, not a file");
  if (!S_ISREG(st.st_mode)) throw fail("not a regular file (a FIFO, a device or a socket)");
  if (static_cast<uint64_t>(st.st_size) > kMaxReportBytes) throw fail("larger than 256 MiB");
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail(std::strerror(errno));
    if (n == 0) break;
    if (text.size() + static_cast<size_t>(n) > kMaxReportBytes) throw fail("larger than 256 MiB");
    text.append(buf, static_cast<size_t>(n));
  }
  if (text.empty()) throw fail("empty");
  return text;
}

}  // namespace

int run_diff(const RunConfig& c) {
  const auto& dc = c.diff;
  const RecordedReport before = read_report_json(read_report_file(dc.before), dc.before);
  const RecordedReport after = read_report_json(read_report_file(dc.after), dc.after);
  const ReportDiff d = diff_reports(before, after);
  if (dc.format == Format::json)
    write_diff_json(std::cout, before, after, d, dc.top);
  else
    write_diff_table(std::cout, before, after, d, dc.top);
  std::cout.flush();
  return 0;
}

}  // namespace slableak
