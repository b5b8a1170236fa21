// The slab walk's calibration (--method slab) leaves no trace on the host:
// it provokes its large kmallocs with setxattr() calls that cannot succeed,
// so no attribute is left on any filesystem it tries. Shown on the
// filesystems that would keep a 16 KiB user.* value (tmpfs, XFS, ext4 with
// ea_inode; plain ext4 refuses one with ENOSPC): each is mounted at /tmp in a
// private mount namespace whose / is read-only (as under the unit's
// ProtectSystem=strict), which is where the calibration then goes. check,
// snapshot and export run there with --method slab and must still succeed.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "support.h"

namespace slableak::test {
namespace {

using std::chrono::seconds;

struct Fs {
  std::string name;
  // mkfs command for an image at the path appended; empty: a tmpfs.
  std::vector<std::string> mkfs;
  uint64_t image_bytes = 0;
};
void PrintTo(const Fs& fs, std::ostream* os) { *os << fs.name; }

std::string ns_of(pid_t pid) {
  char buf[64] = {};
  const std::string link = "/proc/" + std::to_string(pid) + "/ns/mnt";
  const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// Every extended attribute name of @path (not following a symlink).
std::vector<std::string> xattr_names(const std::string& path) {
  std::vector<std::string> out;
  char buf[65536];
  const ssize_t n = llistxattr(path.c_str(), buf, sizeof buf);
  for (ssize_t at = 0; at < n;) {
    const std::string name(buf + at);
    out.push_back(name);
    at += static_cast<ssize_t>(name.size()) + 1;
  }
  return out;
}

class Calibration : public ::testing::TestWithParam<Fs> {};

TEST_P(Calibration, LeavesNoAttributeOnAnyFilesystem) {
  REQUIRE_BPF();
  const Fs& fs = GetParam();
  if (!fs.mkfs.empty() && access(fs.mkfs[0].c_str(), X_OK) != 0) {
    if (running_in_ci()) FAIL() << "CI=true but " << fs.mkfs[0] << " missing (scripts/setup.sh installs it)";
    GTEST_SKIP() << fs.mkfs[0] << " missing";
  }
  const std::string dir = make_temp_dir("slableak-calib");
  const std::string image = dir + "/fs.img";
  struct Remove {  // also when an assertion ends the test early
    std::string image, dir;
    ~Remove() {
      unlink(image.c_str());
      rmdir(dir.c_str());
    }
  } remove_image{image, dir};
  if (!fs.mkfs.empty()) {
    const int fd = open(image.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, static_cast<off_t>(fs.image_bytes)), 0);  // sparse
    close(fd);
    std::vector<std::string> mkfs = fs.mkfs;
    mkfs.push_back(image);
    const RunResult r = run_command(mkfs, seconds(60));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
  }

  // A process holding a private mount namespace; mounts and slableak go in
  // through nsenter, and its root is seen from here as /proc/PID/root.
  Child ns({"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sleep", "600"});
  const std::string ours = ns_of(getpid());
  for (int i = 0; i < 100 && (ns_of(ns.pid()).empty() || ns_of(ns.pid()) == ours); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_NE(ns_of(ns.pid()), ours) << "unshare did not enter a new mount namespace";
  const auto in_ns = [&](std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"/usr/bin/nsenter", "-t", std::to_string(ns.pid()), "-m"});
    return run_command(argv, seconds(90));
  };
  // The loop device is set up out here: opened through the namespace's /,
  // its image would hold a writer there and / could not turn read-only.
  std::string loop;
  RunResult r;
  if (!fs.mkfs.empty()) {
    r = run_command({"/usr/sbin/losetup", "--find", "--show", image}, seconds(30));
    ASSERT_EQ(r.status, 0) << r.err;
    loop = r.out.substr(0, r.out.find('\n'));
  }
  struct Detach {
    std::string dev;
    ~Detach() {
      if (!dev.empty()) run_command({"/usr/sbin/losetup", "-d", dev}, seconds(30));
    }
  } detach{loop};
  // The build may sit under /tmp (a clone in mktemp -d), which the
  // filesystem under test is about to cover: slableak runs from its
  // directory bound on /mnt, in the namespace only.
  const std::filesystem::path bin(slableak_bin());
  r = in_ns({"/usr/bin/mount", "--bind", bin.parent_path().string(), "/mnt"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string bin_in_ns = "/mnt/" + bin.filename().string();
  r = loop.empty() ? in_ns({"/usr/bin/mount", "-t", "tmpfs", "-o", "size=64m", "none", "/tmp"})
                   : in_ns({"/usr/bin/mount", loop, "/tmp"});
  ASSERT_EQ(r.status, 0) << r.err;
  r = in_ns({"/usr/bin/mount", "-o", "remount,bind,ro", "/"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string root = "/proc/" + std::to_string(ns.pid()) + "/root";
  ASSERT_NE(mkdir((root + "/slableak-ro-probe").c_str(), 0700), 0) << "/ is not read-only in the namespace";
  ASSERT_EQ(errno, EROFS);
  // The filesystem under test keeps a 16 KiB user.* value: an attribute
  // created by the calibration would stay.
  {
    const std::string probe = root + "/tmp/probe";
    const int fd = open(probe.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    close(fd);
    static char value[16384];
    ASSERT_EQ(setxattr(probe.c_str(), "user.probe", value, sizeof value, XATTR_CREATE), 0)
        << fs.name << " does not keep a 16 KiB attribute: " << std::strerror(errno);
    ASSERT_EQ(unlink(probe.c_str()), 0);
  }
  ASSERT_EQ(mkdir((root + "/tmp/textfile").c_str(), 0755), 0);

  const std::vector<std::vector<std::string>> commands = {
      {"check", "--method", "slab"},
      {"snapshot", "--method", "slab", "--duration", "1s"},
      {"export", "--method", "slab", "--once", "--interval", "1s", "--textfile-dir", "/tmp/textfile"},
  };
  for (const auto& args : commands) {
    SCOPED_TRACE(args[0]);
    std::vector<std::string> argv{bin_in_ns};
    argv.insert(argv.end(), args.begin(), args.end());
    r = in_ns(argv);
    EXPECT_EQ(r.status, 0) << r.out << r.err;  // the calibration succeeded
    // No attribute of ours anywhere the calibration may go, nor anywhere
    // on the filesystem under test.
    std::vector<std::string> places = {root + "/", root + "/dev/shm", root + "/run"};
    std::error_code ec;
    places.push_back(root + "/tmp");
    for (std::filesystem::recursive_directory_iterator it(root + "/tmp", ec), end; !ec && it != end; it.increment(ec))
      places.push_back(it->path());
    for (const auto& p : places)
      for (const auto& name : xattr_names(p))
        EXPECT_EQ(name.find("slableak"), std::string::npos) << p << " carries " << name;
  }
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
  ns.signal(SIGKILL);
  ns.wait_exit(seconds(10));  // the namespace and its mounts go with it
}

INSTANTIATE_TEST_SUITE_P(Filesystems, Calibration,
                         ::testing::Values(Fs{"tmpfs", {}, 0},
                                           Fs{"xfs", {"/usr/sbin/mkfs.xfs", "-q", "-f"}, uint64_t{512} << 20},
                                           Fs{"ext4_ea_inode", {"/usr/sbin/mkfs.ext4", "-q", "-F", "-O", "ea_inode"},
                                              uint64_t{64} << 20}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace slableak::test
