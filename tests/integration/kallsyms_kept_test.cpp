// Modules loaded after the exporter started are symbolized although it has
// dropped CAP_SYSLOG: /proc/kallsyms and /proc/modules decide whether to
// show addresses by the opener's credentials at open time, so the session
// keeps descriptors opened before the drop and reads them again from the
// start (proc_files.h KeptFile). This VM cannot load modules: shown here is
// the mechanism, with the exporter's own capability drop.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "privileges.h"
#include "proc_files.h"
#include "support.h"

namespace slableak::test {
namespace {

using std::chrono::seconds;

// In a child (capabilities are per thread and cannot come back): keep
// /proc/kallsyms open, drop to what the exporter keeps, then read it afresh
// and through the kept descriptor, twice. Exit 0: the kept one shows
// addresses every time; 10: even a fresh open shows them here (nothing to
// show); else a failure, said on stderr.
int kept_read_after_drop() {
  try {
    const KeptFile kept("/proc/kallsyms");
    const size_t before = read_kallsyms(kept).size();
    const CapabilityDrop d = drop_capabilities(
        {{"reading /proc/slabinfo", [](std::string* why) { return can_read_file("/proc/slabinfo", why); },
          file_read_helpers()},
         {"reading the BPF maps", bpf_syscall_allowed, bpf_syscall_helpers()}});
    constexpr int kCapSyslog = 34;
    if (d.effective_after & (uint64_t{1} << kCapSyslog)) {
      std::fprintf(stderr, "CAP_SYSLOG kept: %s\n", d.summary.c_str());
      return 2;
    }
    if (!read_kallsyms("/proc/kallsyms").addresses_hidden()) return 10;
    for (int i = 0; i < 2; ++i) {
      const Kallsyms k = read_kallsyms(kept);
      if (k.addresses_hidden() || k.size() == 0) {
        std::fprintf(stderr, "re-read %d: %zu symbols of %zu, hidden %d\n", i, k.size(), before, k.addresses_hidden());
        return 3;
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 4;
  }
}

TEST(KeptKallsyms, ReadAgainAfterDroppingCapSyslogStillShowsAddresses) {
  REQUIRE_BPF();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(kept_read_after_drop());
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 10) GTEST_SKIP() << "kallsyms shows addresses without CAP_SYSLOG here (kptr_restrict=0, perf_event_paranoid<2)";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// The exporter keeps that descriptor for its whole run, after its drop.
TEST(KeptKallsyms, TheExporterKeepsKallsymsOpenAfterItsDrop) {
  REQUIRE_BPF();
  const std::string dir = make_temp_dir("slableak-kept");
  Child exp({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", dir});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  const std::string caps = exp.wait_stderr_line("slableak: ", seconds(5));
  EXPECT_EQ(caps.find("not dropped"), std::string::npos) << caps;
  int kallsyms = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(exp.pid()) + "/fd", ec))
    kallsyms += std::filesystem::read_symlink(e.path(), ec) == "/proc/kallsyms";
  EXPECT_EQ(kallsyms, 1) << "no descriptor of /proc/kallsyms kept";
  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(20)), 0) << exp.err();
  std::filesystem::remove_all(dir, ec);
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

}  // namespace
}  // namespace slableak::test
