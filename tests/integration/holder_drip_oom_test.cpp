// holder drip-oom, the leak of the OOM guest test (scripts/lab/files/oom/run.sh):
// it stops by itself at the first OOM kill after its start and keeps every
// message it holds. The kill is a stand-in vmstat (HOLDER_VMSTAT) whose
// oom_kill goes up; what is held is read from /proc/net/netlink (the receive
// queue bytes, Rmem, of the holder's own sockets). No BPF: only the holder.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "support.h"

namespace slableak::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Bytes queued on the netlink sockets PID has open.
uint64_t netlink_rmem_of(pid_t pid) {
  std::set<std::string> inodes;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(e.path(), ec).string();
    if (!ec && target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
  }
  std::istringstream in(read_file("/proc/net/netlink"));
  std::string line;
  std::getline(in, line);  // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
  uint64_t sum = 0;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::vector<std::string> col;
    for (std::string w; words >> w;) col.push_back(w);
    if (col.size() >= 10 && inodes.count(col[9])) sum += std::stoull(col[4]);
  }
  return sum;
}

// Rewritten in place (O_TRUNC): the holder reads it through one descriptor.
void write_vmstat(const std::string& path, int oom_kills) {
  std::ofstream(path, std::ios::trunc) << "pgfault 12345\noom_kill " << oom_kills << "\npgpromote_success 0\n";
}

TEST(HolderDripOom, StopsAtTheFirstOomKillAndKeepsWhatItHolds) {
  const std::string vmstat = make_temp_dir("slableak-drip-oom") + "/vmstat";
  write_vmstat(vmstat, 3);  // kills before the start do not count
  setenv("HOLDER_VMSTAT", vmstat.c_str(), 1);
  Child holder({holder_bin(), "drip-oom", "0", "200"});
  unsetenv("HOLDER_VMSTAT");
  ASSERT_FALSE(holder.wait_stdout_line("ready", seconds(10)).empty()) << holder.err();
  std::this_thread::sleep_for(milliseconds(500));
  write_vmstat(vmstat, 4);
  const std::string held = holder.wait_stdout_line("held", seconds(10));
  ASSERT_FALSE(held.empty()) << holder.err();
  EXPECT_NE(held.find(" stopped=oom "), std::string::npos) << held;
  const unsigned long n = std::stoul(held.substr(5));
  ASSERT_GT(n, 0u) << held;
  // Every message is still queued (1500 bytes each, more with the skb), and
  // stays so: the drip neither goes on nor frees.
  const uint64_t rmem = netlink_rmem_of(holder.pid());
  EXPECT_GE(rmem, n * 1500) << held;
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(netlink_rmem_of(holder.pid()), rmem) << held;
  holder.write_line("quit");
  EXPECT_EQ(holder.wait_exit(seconds(10)), 0) << holder.err();
}

TEST(HolderDripOom, NeedsTheOomKillCounter) {
  setenv("HOLDER_VMSTAT", "/proc/self/status", 1);
  const RunResult r = run_command({holder_bin(), "drip-oom", "0", "200"}, seconds(10));
  unsetenv("HOLDER_VMSTAT");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no oom_kill line in /proc/self/status"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace slableak::test
