// Atomic replacement of one file in node_exporter's textfile directory:
// write a temporary file in the same directory, fsync, rename over the
// target. A reader sees the old file or the new one, never a mix; a failed
// write leaves the old file as it was.
#pragma once
#include <string>

namespace slableak {

class TextfileWriter {
 public:
  // Checks now that @dir exists, is a directory and is writable (throws a
  // usage Error naming the fix), so a bad path fails at start, not later.
  TextfileWriter(std::string dir, std::string name);

  // Returns false and sets @error on failure; the previous file is intact.
  bool write(const std::string& content, std::string* error);
  // Removes the file (on a clean stop: stale numbers must not be scraped).
  void remove();
  const std::string& path() const { return path_; }

 private:
  std::string dir_, name_, path_;
  int dir_fd_ = -1;

 public:
  ~TextfileWriter();
  TextfileWriter(const TextfileWriter&) = delete;
  TextfileWriter& operator=(const TextfileWriter&) = delete;
};

}  // namespace slableak
