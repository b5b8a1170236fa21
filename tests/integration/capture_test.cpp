// The flight recorder of `export --capture-dir` on the real kernel:
// SIGUSR1 during a held leak writes a whole capture that `captures` lists
// and `diff` reads; a full, read-only or deleted capture directory is a
// counted error and the exporter carries on; the OOM killer of a memory
// cgroup (a small allocating process under a 64 MiB limit, never the host)
// triggers a capture naming the victim.
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support.h"

using namespace slableak;
using namespace slableak::test;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> captures_in(const std::string& dir, const std::string& trigger) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > trigger.size() + 1 && n.compare(n.size() - trigger.size() - 1, std::string::npos, "-" + trigger) == 0)
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The value of an unlabelled or labelled sample line "NAME{...} V" in a textfile.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, series.size() + 1, series + " ") == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

// Waits until the exporter's textfile has @series at @value (one interval at most, a few to be safe).
bool textfile_reaches(const std::string& prom, const std::string& series, double value) {
  for (int i = 0; i < 100; ++i) {
    if (sample(read_file(prom), series) == value) return true;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return false;
}

}  // namespace

TEST(Capture, SignalDuringAHeldLeakWritesAWholeCaptureThatCapturesListsAndDiffReads) {
  REQUIRE_BPF();
  const std::string dir = make_temp_dir("slableak-capture");
  const std::string cap = dir + "/captures";
  Child exp({slableak_bin(), "export", "--interval", "2s", "--textfile-dir", dir, "--sample-every", "1",
             "--capture-dir", cap});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(30)).empty()) << exp.err();
  Holder held("kmalloc", 2000);
  std::this_thread::sleep_for(seconds(3));
  exp.signal(SIGUSR1);
  const std::string line = exp.wait_stderr_line("slableak: capture ", seconds(20));
  ASSERT_FALSE(line.empty()) << exp.err();
  std::cout << line << "\n";  // says how long after the trigger (measured, not asserted)

  const auto caps = captures_in(cap, "sigusr1");
  ASSERT_EQ(caps.size(), 1u);
  for (const char* f :
       {"report.json", "flamegraph.svg", "profile.pb.gz", "meminfo", "slabinfo", "metrics.prom", "capture.json"})
    EXPECT_GT(fs::file_size(caps[0] / f), 0u) << f;
  // The profile is gzip (magic 1f 8b) and the manifest lists it.
  EXPECT_EQ(read_file(caps[0] / "profile.pb.gz").substr(0, 2), "\x1f\x8b");
  const auto report = nlohmann::json::parse(read_file(caps[0] / "report.json"));
  EXPECT_NEAR(objects_under(report, "netlink_sendmsg", "kmalloc-2k"), 2000, 40);
  const auto manifest = nlohmann::json::parse(read_file(caps[0] / "capture.json"));
  EXPECT_EQ(manifest["trigger"], "sigusr1");
  EXPECT_NE(manifest["files"].dump().find("\"profile.pb.gz\""), std::string::npos) << manifest.dump();
  EXPECT_GT(manifest["monotonic_s"].get<double>(), 0) << manifest.dump();
  EXPECT_TRUE(manifest["oom_to_report_ms"].is_null()) << manifest.dump();
  EXPECT_EQ(manifest["top"]["cache"], "kmalloc-2k");
  EXPECT_GE(manifest["top"]["bytes"].get<int64_t>(), 1900 * 2048);
  EXPECT_NE(read_file(caps[0] / "metrics.prom").find("slableak_tracer_events_total"), std::string::npos);
  EXPECT_TRUE(textfile_reaches(dir + "/slableak.prom", "slableak_captures_total{trigger=\"sigusr1\"}", 1));

  const RunResult listed = run_slableak({"captures", cap});
  EXPECT_EQ(listed.status, 0) << listed.err;
  EXPECT_NE(listed.out.find("sigusr1"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("kmalloc-2k"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find(caps[0].filename().string()), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("profile: " + (caps[0] / "profile.pb.gz").string()), std::string::npos) << listed.out;

  // The capture's report against a later snapshot, after the leak is freed.
  held.release();
  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(30)), 0) << exp.err();
  const RunResult later = run_slableak({"snapshot", "--duration", "2s", "--format", "json"});
  ASSERT_EQ(later.status, 0) << later.err;
  const std::string later_path = dir + "/later.json";
  std::ofstream(later_path) << later.out;
  const RunResult d = run_slableak({"diff", (caps[0] / "report.json").string(), later_path});
  EXPECT_EQ(d.status, 0) << d.err;
  EXPECT_NE(d.out.find("disappeared"), std::string::npos) << d.out;
  fs::remove_all(dir);
}

TEST(Capture, AFullReadOnlyOrDeletedDirectoryIsACountedErrorNotACrash) {
  REQUIRE_BPF();
  const std::string dir = make_temp_dir("slableak-capture");
  const std::string cap = dir + "/captures";
  ASSERT_EQ(mkdir(cap.c_str(), 0750), 0);
  // 16 KiB: /proc/slabinfo alone is larger, so every capture fills it.
  ASSERT_EQ(mount("slableak-test", cap.c_str(), "tmpfs", 0, "size=16k"), 0) << strerror(errno);
  struct Unmount {
    std::string p;
    ~Unmount() { umount2(p.c_str(), MNT_DETACH); }
  } unmount{cap};
  Child exp({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", dir, "--capture-dir", cap,
             "--no-capture-on-oom"});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(30)).empty()) << exp.err();
  const std::string prom = dir + "/slableak.prom";

  exp.signal(SIGUSR1);  // full
  EXPECT_FALSE(exp.wait_stderr_line("slableak: capture ", seconds(20)).empty()) << exp.err();
  EXPECT_TRUE(textfile_reaches(prom, "slableak_capture_errors_total", 1)) << exp.err();
  EXPECT_NE(exp.err().find("No space left on device"), std::string::npos) << exp.err();
  EXPECT_TRUE(captures_in(cap, "sigusr1").empty());
  size_t left = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(cap)) ++left;
  EXPECT_EQ(left, 0u) << "a temporary directory was left in the full directory";

  ASSERT_EQ(mount(nullptr, cap.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, "size=16k"), 0) << strerror(errno);
  exp.signal(SIGUSR1);  // read-only
  EXPECT_TRUE(textfile_reaches(prom, "slableak_capture_errors_total", 2)) << exp.err();

  ASSERT_EQ(umount2(cap.c_str(), 0), 0) << strerror(errno);
  ASSERT_EQ(rmdir(cap.c_str()), 0);
  exp.signal(SIGUSR1);  // deleted
  EXPECT_TRUE(textfile_reaches(prom, "slableak_capture_errors_total", 3)) << exp.err();
  EXPECT_EQ(sample(read_file(prom), "slableak_captures_total{trigger=\"sigusr1\"}"), 0);

  // Still exporting, and the journal got one line per distinct failure, not one per capture.
  ASSERT_EQ(kill(exp.pid(), 0), 0);
  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(30)), 0) << exp.err();
  fs::remove_all(dir);
}

TEST(Capture, TheOomKillerOfAMemoryCgroupTriggersACaptureNamingTheVictim) {
  REQUIRE_BPF();
  // A memory cgroup of 64 MiB (v1 controller on a hybrid host, else v2):
  // the OOM killer that fires is the cgroup's, never the host's.
  std::string cg, limit_file, procs;
  const std::string name = "slableak-oom-test-" + std::to_string(getpid());
  if (fs::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes")) {
    cg = "/sys/fs/cgroup/memory/" + name;
    limit_file = "memory.limit_in_bytes";
  } else if (read_file("/sys/fs/cgroup/cgroup.controllers").find("memory") != std::string::npos) {
    cg = "/sys/fs/cgroup/" + name;
    limit_file = "memory.max";
  } else {
    GTEST_SKIP() << "no memory cgroup controller to confine the OOM killer to";
  }
  ASSERT_EQ(mkdir(cg.c_str(), 0755), 0) << cg << ": " << strerror(errno);
  struct RemoveCgroup {
    std::string p;
    ~RemoveCgroup() {
      for (int i = 0; i < 50 && rmdir(p.c_str()) != 0; ++i) std::this_thread::sleep_for(milliseconds(100));
    }
  } remove_cg{cg};
  std::ofstream(cg + "/" + limit_file) << (64 << 20);
  ASSERT_EQ(read_file(cg + "/" + limit_file), std::to_string(64 << 20) + "\n");

  const std::string dir = make_temp_dir("slableak-capture");
  const std::string cap = dir + "/captures";
  Child exp({slableak_bin(), "export", "--interval", "5s", "--textfile-dir", dir, "--capture-dir", cap});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(30)).empty()) << exp.err();
  ASSERT_EQ(exp.err().find("no OOM trigger"), std::string::npos) << exp.err();

  // The shell joins the cgroup, then becomes python, which allocates until killed.
  Child hog({"/bin/sh", "-c",
             "echo $$ > " + cg + "/cgroup.procs && exec /usr/bin/python3 -c '"
             "import time\na=[]\nwhile True:\n a.append(bytearray(1<<20))\n time.sleep(0.002)'"});
  const int status = hog.wait_exit(seconds(60));
  EXPECT_EQ(status, 128 + SIGKILL) << hog.err();
  const std::string line = exp.wait_stderr_line("slableak: capture ", seconds(20));
  ASSERT_FALSE(line.empty()) << exp.err();
  std::cout << line << "\n";
  std::vector<fs::path> ours;
  for (const auto& c : captures_in(cap, "oom")) {
    const auto m = nlohmann::json::parse(read_file(c / "capture.json"));
    if (!m["victim"].is_null() && m["victim"]["pid"] == hog.pid()) ours.push_back(c);
  }
  ASSERT_EQ(ours.size(), 1u) << exp.err();
  const auto m = nlohmann::json::parse(read_file(ours[0] / "capture.json"));
  EXPECT_EQ(m["trigger"], "oom");
  EXPECT_EQ(m["victim"]["comm"], "python3");
  // The kernel's time of the kill, and the report taken after it on the same clock.
  EXPECT_GT(m["victim"]["monotonic_s"].get<double>(), 0) << m.dump();
  ASSERT_TRUE(m["oom_to_report_ms"].is_number()) << m.dump();
  EXPECT_GE(m["oom_to_report_ms"].get<double>(), 0) << m.dump();
  std::cout << "OOM kill to report: " << m["oom_to_report_ms"] << " ms\n";
  std::cout << "victim cgroup: " << m["victim"]["cgroup"] << "\n";
  // From 6.8 (and 6.1.y backports) the tracepoint passes the task: its memory cgroup is named.
  utsname u{};
  uname(&u);
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  if (major > 6 || (major == 6 && minor >= 8))
    EXPECT_NE(m["victim"]["cgroup"].get<std::string>().find(name), std::string::npos) << m.dump();
  EXPECT_TRUE(textfile_reaches(dir + "/slableak.prom", "slableak_captures_total{trigger=\"oom\"}", 1));
  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(30)), 0) << exp.err();
  fs::remove_all(dir);
}
