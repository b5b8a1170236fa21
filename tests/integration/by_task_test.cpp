// --by: a held leak is attributed to the task that made it, by command name
// and by process. About 8 s (two 3 s snapshots).
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support.h"

namespace slableak::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr int64_t kHeld = 500;

// A 3 s kmalloc-2k report split --by @by, while the holder (started 1 s in)
// keeps kHeld netlink messages. Returns the report and the holder's pid.
json held_report(const std::string& by, pid_t* holder_pid) {
  Child snap({slableak_bin(), "snapshot", "--ready-fd", "3", "-d", "3s", "-c", "kmalloc-2k", "--by", by, "--format", "json", "--top",
              "0"});
  EXPECT_FALSE(snap.wait_ready(seconds(20)).empty()) << snap.err();
  Child holder({holder_bin(), "kmalloc", std::to_string(kHeld)});
  EXPECT_FALSE(holder.wait_stdout_line("ready", seconds(20)).empty()) << holder.err();
  *holder_pid = holder.pid();
  EXPECT_EQ(snap.wait_exit(seconds(30)), 0) << snap.err();
  holder.write_line("quit");
  return json::parse(snap.out());
}

bool is_netlink_skb(const json& s) {
  const auto& f = s.at("frames");
  return s.at("cache") == "kmalloc-2k" && f.size() > 1 && f[0].get<std::string>().rfind("__alloc_skb+", 0) == 0 &&
         f[1].get<std::string>().rfind("netlink_sendmsg+", 0) == 0;
}

TEST(ByTask, CommAttributesAHeldLeakToTheHelpersCommandName) {
  REQUIRE_BPF();
  pid_t pid = 0;
  const json j = held_report("comm", &pid);
  EXPECT_EQ(j.at("by"), "comm");
  int64_t holder = 0;
  std::string rows;
  for (const auto& s : j.at("stacks")) {
    ASSERT_TRUE(s.contains("task")) << s.dump();
    if (!is_netlink_skb(s)) continue;
    rows += s.at("task").get<std::string>() + ": " + std::to_string(s.at("objects").get<int64_t>()) + "\n";
    if (s.at("task") == "holder") holder += s.at("objects").get<int64_t>();
  }
  // Another test's holder running at the same time would count here too.
  EXPECT_NEAR(holder, kHeld, 40) << rows;
}

TEST(ByTask, PidAttributesItToTheProcessExactly) {
  REQUIRE_BPF();
  pid_t pid = 0;
  const json j = held_report("pid", &pid);
  const std::string ours = std::to_string(pid) + " holder";
  int64_t held = -1;
  for (const auto& s : j.at("stacks"))
    if (is_netlink_skb(s) && s.at("task") == ours) held = s.at("objects").get<int64_t>();
  EXPECT_EQ(held, kHeld) << "no row for '" << ours << "': " << j.at("stacks").dump();
}

// The cgroup2 mount point of this host's mountinfo ("" if none).
std::string cgroup2_mount_point() {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.find(" - cgroup2 ") == std::string::npos) continue;
    std::istringstream f(line);
    std::string id, parent, dev, root, mount_point;
    f >> id >> parent >> dev >> root >> mount_point;
    if (root == "/") return mount_point;
  }
  return "";
}

// --by cgroup names the cgroup v2 path however the host mounts cgroups (this
// VM is hybrid: v1 hierarchies under /sys/fs/cgroup, cgroup2 at
// /sys/fs/cgroup/unified): no mount point in the name. A cgroup removed
// before its name is read is "cgroup ID", never a directory of another
// hierarchy (numbered alike). About 6 s.
TEST(ByTask, CgroupNamesTheV2PathOnAnyMountLayout) {
  REQUIRE_BPF();
  const std::string mp = cgroup2_mount_point();
  if (mp.empty()) GTEST_SKIP() << "no cgroup2 mount on this host";
  const std::string stem = "slableak-by." + std::to_string(getpid());
  const std::string kept = mp + "/" + stem + "-kept", gone = mp + "/" + stem + "-gone";
  ASSERT_EQ(mkdir(kept.c_str(), 0755), 0) << kept << ": " << std::strerror(errno);
  ASSERT_EQ(mkdir(gone.c_str(), 0755), 0) << gone << ": " << std::strerror(errno);
  struct stat gst{};
  ASSERT_EQ(stat(gone.c_str(), &gst), 0);
  json j;
  {
    Child snap({slableak_bin(), "snapshot", "-d", "6s", "-c", "kmalloc-2k", "--by", "cgroup", "--format", "json",
                "--top", "0"});
    EXPECT_FALSE(snap.wait_stderr_line("slableak: tracing", seconds(20)).empty()) << snap.err();
    // Each holder enters its cgroup before it allocates.
    const auto in_cgroup = [](const std::string& dir) {
      return std::vector<std::string>{"/bin/sh", "-c",
                                      "echo $$ > " + dir + "/cgroup.procs && exec " + holder_bin() + " kmalloc 300"};
    };
    Child h1(in_cgroup(kept)), h2(in_cgroup(gone));
    EXPECT_FALSE(h1.wait_stdout_line("ready", seconds(20)).empty()) << h1.err();
    EXPECT_FALSE(h2.wait_stdout_line("ready", seconds(20)).empty()) << h2.err();
    // The second leaves, and its cgroup goes, before the report is made.
    {
      std::ofstream(mp + "/cgroup.procs") << h2.pid() << "\n";
    }
    EXPECT_EQ(rmdir(gone.c_str()), 0) << std::strerror(errno);
    EXPECT_EQ(snap.wait_exit(seconds(30)), 0) << snap.err();
    h1.write_line("quit");
    h2.write_line("quit");
    h1.wait_exit(seconds(10));
    h2.wait_exit(seconds(10));
    j = json::parse(snap.out());
  }
  rmdir(kept.c_str());
  rmdir(gone.c_str());
  std::map<std::string, int64_t> held;
  std::string rows;
  for (const auto& s : j.at("stacks")) {
    if (!is_netlink_skb(s)) continue;
    const std::string task = s.at("task");
    held[task] += s.at("objects").get<int64_t>();
    rows += task + ": " + std::to_string(s.at("objects").get<int64_t>()) + "\n";
    // A path is a cgroup v2 path: one that exists there, or ours.
    if (task.rfind("/", 0) == 0 && task != "/" + stem + "-gone")
      EXPECT_EQ(access((mp + task).c_str(), F_OK) == 0 || task == "/" + stem + "-kept", true)
          << task << " is no cgroup v2 path\n" << rows;
  }
  EXPECT_EQ(held["/" + stem + "-kept"], 300) << rows;
  EXPECT_EQ(held["/" + stem + "-gone"] + held["cgroup " + std::to_string(gst.st_ino)], 300) << rows;
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

}  // namespace
}  // namespace slableak::test
