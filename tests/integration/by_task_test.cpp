// --by: a held leak is attributed to the task that made it, by command name
// and by process. About 8 s (two 3 s snapshots).
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
  Child snap({slableak_bin(), "snapshot", "-d", "3s", "-c", "kmalloc-2k", "--by", by, "--format", "json", "--top",
              "0"});
  EXPECT_FALSE(snap.wait_stderr_line("slableak: tracing", seconds(20)).empty()) << snap.err();
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

}  // namespace
}  // namespace slableak::test
