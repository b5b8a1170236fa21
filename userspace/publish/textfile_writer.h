// Atomic replacement of one file in node_exporter's textfile directory:
// write a temporary file in the same directory, fsync, rename over the
// target. A reader sees the old file or the new one, never a mix; a failed
// write leaves the old file as it was and no temporary file behind.
//
// One writer per directory: the writer holds an exclusive flock on
// DIR/.NAME.lock for its lifetime, so a second exporter pointed at the same
// directory is refused at start instead of both rewriting NAME. The lock
// file stays (deleting a lock file races with its next taker); the kernel
// drops the lock when the process dies, however it dies.
//
// Names in the directory are never followed: the temporary file is created
// with O_CREAT|O_EXCL|O_NOFOLLOW after removing whatever was at its name, and
// rename() replaces a symlink planted at NAME rather than writing through it.
// The lock file is opened with O_NOFOLLOW and refused unless it is a regular
// file with exactly one link: a hard link planted at its name (possible where
// fs.protected_hardlinks=0) would otherwise have us truncate and overwrite
// the file it points to, as root.
//
// The directory is followed by name: before each write the writer checks
// that DIR is still the directory it opened. If DIR was removed and created
// again (a tmpfs remounted, a config tool re-creating it) it opens the new
// one and takes the new one's lock; it never writes into a deleted
// directory. While DIR is missing, or its new lock is held by another
// exporter, writes fail with a message saying so (the exporter counts them
// in slableak_textfile_write_errors_total).
//
// A new directory this process cannot write at all (not opened, or its lock
// file not created: EROFS when a service's ReadWritePaths= bind mount went
// with the old directory and the new one is seen through a read-only root)
// is lost for good to this process: directory_lost() says so, and the
// exporter exits so that its service manager starts it again onto the new
// directory (cmd_export.cpp, docs/operations.md).
#pragma once
#include <sys/types.h>

#include <string>

#include "unique_fd.h"

namespace slableak {

class TextfileWriter {
 public:
  // Opens @dir (throws a usage Error naming the fix if it is missing, not a
  // directory or not writable), takes the directory lock (throws a usage
  // Error naming the other process if it is held), and removes temporary
  // files that killed writers left behind. A bad path fails at start, not
  // at the first interval.
  TextfileWriter(std::string dir, std::string name);
  TextfileWriter(const TextfileWriter&) = delete;
  TextfileWriter& operator=(const TextfileWriter&) = delete;

  // Returns false and sets @error on failure; the previous file is intact.
  bool write(const std::string& content, std::string* error);
  // Removes the file (on a clean stop: stale numbers must not be scraped).
  // Returns false and sets @error if a file is left behind.
  bool remove(std::string* error = nullptr);
  // Creates and removes a temporary file now: can this process (with the
  // credentials in force) still write here? For dropping capabilities.
  bool probe(std::string* error) const;

  // DIR was replaced by a directory this process cannot open or lock
  // (another exporter holding its lock does not count): no later write can
  // succeed; a fresh process (a fresh mount namespace) can.
  bool directory_lost() const { return lost_; }

  const std::string& path() const { return path_; }
  const std::string& dir() const { return dir_; }
  // ".NAME.tmp.PID": the temporary name used by this process.
  std::string temp_name() const;
  // ".NAME.lock"
  std::string lock_name() const;

 private:
  // Opens the lock file in @dir_fd safely and flocks it; returns its fd, or
  // an empty one with @error set (@held: another process holds it).
  UniqueFd take_lock(int dir_fd, std::string* error, bool* held) const;
  // Makes sure dir_fd_ is the directory now at dir_, following a
  // re-created one (and its lock). False with @error if it cannot.
  bool follow_directory(std::string* error);
  void remove_stale_temp_files() const;

  std::string dir_, name_, path_;
  UniqueFd dir_fd_;
  UniqueFd lock_fd_;
  bool lost_ = false;
  dev_t dir_dev_ = 0;
  ino_t dir_ino_ = 0;
};

}  // namespace slableak
