// Verdicts on real kernel allocations: a paced held leak next to a fast
// churn in the same cache (kmalloc-2k), and a pool that fills and stops,
// each judged within one `slableak snapshot` of at most 60 s.
#include <nlohmann/json.hpp>

#include "support.h"

namespace slableak::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// The one kmalloc-2k stack through @via and netlink_sendmsg with the most
// allocations (the helper's; other processes may use the same path).
const json* netlink_stack(const json& report, const std::string& via) {
  const json* best = nullptr;
  for (const auto& s : report.at("stacks"))
    if (s.at("cache") == "kmalloc-2k" && has_function(s, "netlink_sendmsg") && has_function(s, via) &&
        (!best || s.at("allocs").get<uint64_t>() > best->at("allocs").get<uint64_t>()))
      best = &s;
  return best;
}

std::string summary(const json& report) {
  std::string out;
  for (const auto& s : report.at("stacks")) {
    if (s.at("objects").get<int64_t>() == 0 && s.at("allocs").get<uint64_t>() < 1000) continue;
    out += s.at("verdict").get<std::string>() + " " + std::to_string(s.at("objects").get<int64_t>()) + " objects: " +
           s.at("verdict_evidence").get<std::string>() + " [";
    for (size_t i = 0; i < s.at("frames").size() && i < 6; ++i) out += s.at("frames")[i].get<std::string>() + " ";
    out += "]\n";
  }
  return out;
}

TEST(Verdict, PacedLeakIsLeakingAndChurnIsChurnInOneSnapshot) {
  REQUIRE_BPF();
  Child snap({slableak_bin(), "snapshot", "--ready-fd", "3", "--duration", "60s", "--format", "json", "--cache", "kmalloc-2k", "--top",
              "0"});
  ASSERT_FALSE(snap.wait_ready(seconds(30)).empty()) << snap.err();
  // 20 held messages a second through sendmsg(); write()/read() churn
  // through the same netlink_sendmsg, as fast as it goes.
  Child leak({holder_bin(), "drip", "0", "20"});
  Child churn({holder_bin(), "churn-write", "0"});
  ASSERT_FALSE(leak.wait_stdout_line("ready", seconds(10)).empty()) << leak.err();
  ASSERT_FALSE(churn.wait_stdout_line("ready", seconds(10)).empty()) << churn.err();
  ASSERT_EQ(snap.wait_exit(seconds(120)), 0) << snap.err();
  leak.write_line("quit");
  churn.write_line("quit");
  const json j = json::parse(snap.out());
  SCOPED_TRACE(summary(j));

  const json* held = netlink_stack(j, "____sys_sendmsg");
  const json* churned = netlink_stack(j, "sock_write_iter");
  ASSERT_NE(held, nullptr);
  ASSERT_NE(churned, nullptr);
  EXPECT_EQ(held->at("verdict"), "leaking") << held->at("verdict_evidence");
  EXPECT_GT(held->at("objects").get<int64_t>(), 20 * 40);  // ~20/s for most of the minute
  EXPECT_EQ(churned->at("verdict"), "churn") << churned->at("verdict_evidence");
  EXPECT_GT(churned->at("allocs").get<uint64_t>(), 10000u) << "the churn did not run";
  // The default sort puts the leak first, whatever holds more bytes.
  ASSERT_FALSE(j.at("stacks").empty());
  EXPECT_EQ(j.at("stacks")[0].at("verdict"), "leaking");
}

// The history rule fits the run: a 20 s snapshot (first read a second or
// so after the start) judges a leak that ran through all of it.
TEST(Verdict, TwentySecondSnapshotReachesAVerdict) {
  REQUIRE_BPF();
  Child leak({holder_bin(), "drip", "0", "20"});
  ASSERT_FALSE(leak.wait_stdout_line("ready", seconds(10)).empty()) << leak.err();
  Child snap({slableak_bin(), "snapshot", "--duration", "20s", "--format", "json", "--cache", "kmalloc-2k", "--top",
              "0"});
  ASSERT_EQ(snap.wait_exit(seconds(90)), 0) << snap.err();
  leak.write_line("quit");
  const json j = json::parse(snap.out());
  SCOPED_TRACE(summary(j));
  const json* held = netlink_stack(j, "____sys_sendmsg");
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->at("verdict"), "leaking") << held->at("verdict_evidence");
}

TEST(Verdict, PoolThatFillsAndStopsIsPool) {
  REQUIRE_BPF();
  Child snap({slableak_bin(), "snapshot", "--ready-fd", "3", "--duration", "45s", "--format", "json", "--cache", "kmalloc-2k", "--top",
              "0"});
  ASSERT_FALSE(snap.wait_ready(seconds(30)).empty()) << snap.err();
  // 200 objects over 10 s, then held, unchanged, for the rest of the run.
  Child pool({holder_bin(), "drip", "200", "20"});
  ASSERT_FALSE(pool.wait_stdout_line("ready", seconds(30)).empty()) << pool.err();
  ASSERT_EQ(snap.wait_exit(seconds(120)), 0) << snap.err();
  pool.write_line("quit");
  const json j = json::parse(snap.out());
  SCOPED_TRACE(summary(j));
  const json* held = netlink_stack(j, "____sys_sendmsg");
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->at("objects").get<int64_t>(), 200);
  EXPECT_EQ(held->at("verdict"), "pool") << held->at("verdict_evidence");
}

}  // namespace
}  // namespace slableak::test
