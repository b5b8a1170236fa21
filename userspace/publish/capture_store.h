// The flight recorder's directory: one subdirectory per capture, written so
// that it survives the crash or reboot that may follow at once.
//
// A capture is written into DIR/.tmp-NAME (files created with O_EXCL |
// O_NOFOLLOW, each fsynced), the temporary directory is fsynced, renamed to
// DIR/NAME, and DIR is fsynced. After a crash DIR holds whole captures and
// at most one .tmp- directory, which the next store removes. Then the
// oldest captures go (model/capture_plan.h: captures_to_remove) until at
// most `keep` remain within `max_bytes`.
//
// DIR is opened by name for every capture: a directory removed and created
// again is written to as it is now. Every failure (a full disk, a read-only
// or deleted DIR, a file that cannot be written) returns false with a
// one-line reason and leaves no temporary directory behind when it can; the
// exporter counts it (slableak_capture_errors_total) and carries on.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "unique_fd.h"

namespace slableak {

struct CaptureFile {
  std::string name;     // "report.json"
  std::string content;
};

class CaptureStore {
 public:
  // Creates @dir (one level, mode 0750) if it is missing; throws a usage
  // Error naming the fix if it cannot be opened or written now. Removes
  // temporary directories that a killed writer left behind.
  CaptureStore(std::string dir, size_t keep, uint64_t max_bytes);
  CaptureStore(const CaptureStore&) = delete;
  CaptureStore& operator=(const CaptureStore&) = delete;

  // Writes DIR/@name from @files (written in order) and applies retention.
  // False with @error set if the capture could not be written whole.
  bool write(const std::string& name, const std::vector<CaptureFile>& files, std::string* error);

  // Can this process (with the credentials in force) still write here?
  bool probe(std::string* error) const;

  const std::string& dir() const { return dir_; }
  // Captures removed by retention since start.
  uint64_t removed() const { return removed_; }

  // Every capture in @dir (names made by capture_name), oldest first, with
  // the bytes of their files. Throws a usage Error (a bad argument: exit 2)
  // if @dir cannot be opened as a directory.
  static std::vector<std::pair<std::string, uint64_t>> list(const std::string& dir);
  // One file of a capture, at most @max_bytes; throws an environment Error.
  static std::string read(const std::string& dir, const std::string& capture, const std::string& file,
                          size_t max_bytes);

 private:
  UniqueFd open_dir(std::string* error) const;
  void apply_retention(int dir_fd);
  std::string dir_;
  size_t keep_;
  uint64_t max_bytes_;
  uint64_t removed_ = 0;
};

}  // namespace slableak
