// slableak run -- COMMAND: what the command allocated and left held, on its
// stack; nothing when it frees everything; the command's exit status; and
// the shell's answers for a missing command.
#include <sys/msg.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support.h"

namespace slableak::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr int kHeld = 300;

// The report follows the command's own output on stdout.
json report_of(const std::string& out) {
  const size_t at = out.rfind("\n{");
  return json::parse(at == std::string::npos ? out : out.substr(at + 1));
}

// The SysV queues a "msg-keep" holder printed; removed at scope end.
struct Queues {
  std::vector<int> ids;
  explicit Queues(const std::string& out) {
    const size_t at = out.find("queues");
    if (at == std::string::npos) return;
    std::istringstream in(out.substr(at + 6, out.find('\n', at) - at - 6));
    for (int id; in >> id;) ids.push_back(id);
  }
  ~Queues() {
    for (int id : ids) msgctl(id, IPC_RMID, nullptr);
  }
};

TEST(Run, CommandThatLeavesObjectsHeldIsReportedOnItsStack) {
  REQUIRE_BPF();
  const RunResult r = run_slableak({"run", "--only-command", "-c", "msg_msg-2k", "--format", "json", "--top", "0",
                                    "--", holder_bin(), "msg-keep", std::to_string(kHeld)},
                                   seconds(60));
  const Queues queues(r.out);
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_FALSE(queues.ids.empty()) << r.out;
  const json j = report_of(r.out);
  // Exactly the helper's messages: the filter keeps everyone else out.
  EXPECT_EQ(objects_under(j, "load_msg", "msg_msg-2k"), kHeld) << r.out;
  ASSERT_EQ(j.at("caches").size(), 1u);
  EXPECT_EQ(j.at("caches")[0].at("attributed_objects"), kHeld);
  EXPECT_NE(r.err.find("exited with status 0"), std::string::npos) << r.err;
}

// A process outlives its main thread: pthread_exit() from main leaves the
// others running, and what they allocate is still the command's.
TEST(Run, ProcessWhoseMainThreadLeftIsStillFollowed) {
  REQUIRE_BPF();
  constexpr int kByWorker = 50;
  const RunResult r = run_slableak({"run", "--only-command", "-c", "msg_msg-2k", "--format", "json", "--top", "0",
                                    "--", holder_bin(), "msg-keep-thread", std::to_string(kByWorker)},
                                   seconds(60));
  const Queues queues(r.out);
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_FALSE(queues.ids.empty()) << r.out;
  EXPECT_EQ(objects_under(report_of(r.out), "load_msg", "msg_msg-2k"), kByWorker) << r.out;
}

TEST(Run, WithoutTheFilterTheHeldObjectsAreThereToo) {
  REQUIRE_BPF();
  const RunResult r = run_slableak(
      {"run", "-c", "msg_msg-2k", "--format", "json", "--top", "0", "--", holder_bin(), "msg-keep", std::to_string(kHeld)},
      seconds(60));
  const Queues queues(r.out);
  ASSERT_EQ(r.status, 0) << r.err;
  // Other processes may hold SysV messages at the same time: at least ours.
  EXPECT_GE(objects_under(report_of(r.out), "load_msg", "msg_msg-2k"), kHeld) << r.out;
}

TEST(Run, CommandThatFreesEverythingLeavesNothingHeld) {
  REQUIRE_BPF();
  // holder msg allocates, then frees everything at EOF on stdin and exits.
  const RunResult r = run_slableak({"run", "--only-command", "-c", "msg_msg-2k", "--", holder_bin(), "msg",
                                    std::to_string(kHeld)},
                                   seconds(60));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("no outstanding allocations attributed yet"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tracked " + std::to_string(kHeld)), std::string::npos) << "it did allocate: " << r.out;
}

TEST(Run, ExitStatusIsTheCommands) {
  REQUIRE_BPF();
  const RunResult r = run_slableak({"run", "--settle", "0s", "--", "/bin/sh", "-c", "exit 7"}, seconds(60));
  EXPECT_EQ(r.status, 7) << r.err;
  EXPECT_NE(r.err.find("exited with status 7"), std::string::npos) << r.err;
}

// A script without "#!" runs with /bin/sh, as a shell (and execvp) runs it.
TEST(Run, ScriptWithoutShebangRunsWithTheShell) {
  REQUIRE_BPF();
  const std::string dir = make_temp_dir("slableak-run-script");
  const std::string script = dir + "/no-shebang";
  std::ofstream(script) << "echo \"script ran with $# args: $1\"\nexit 7\n";
  ASSERT_EQ(chmod(script.c_str(), 0755), 0);
  const RunResult r = run_slableak({"run", "--settle", "0s", "--", script, "one"}, seconds(60));
  EXPECT_EQ(r.status, 7) << r.err;
  EXPECT_NE(r.out.find("script ran with 1 args: one"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("exited with status 7"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

void expect_one_line(const RunResult& r, int status, const std::string& needle) {
  EXPECT_EQ(r.status, status) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "expected one line: " << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(Run, BadCommandsAreOneLineLikeAShell) {
  expect_one_line(run_slableak({"run"}), 2, "run needs a command");
  expect_one_line(run_slableak({"run", "--"}), 2, "run needs a command");
  expect_one_line(run_slableak({"run", "--", "no-such-command-slableak"}), 127, "command not found");
  expect_one_line(run_slableak({"run", "--", "/no/such/file"}), 127, "No such file");
  expect_one_line(run_slableak({"run", "--", "/etc/passwd"}), 126, "cannot run");  // not executable
  expect_one_line(run_slableak({"run", "--settle", "soon", "--", "true"}), 2, "--settle");
}

}  // namespace
}  // namespace slableak::test
