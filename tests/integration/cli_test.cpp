// The slableak binary as a user runs it: the JSON contract, Ctrl-C, and a
// one-line error with a non-zero exit for every bad input, never leaving a
// program attached.
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support.h"

namespace slableak::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

void expect_one_line_error(const RunResult& r, int status, const std::string& needle) {
  EXPECT_EQ(r.status, status) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "expected one line: " << r.err;
  EXPECT_TRUE(r.out.empty()) << "nothing half-written on stdout: " << r.out;
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

TEST(Cli, SnapshotJsonContract) {
  REQUIRE_BPF();
  Child snap({slableak_bin(), "snapshot", "--ready-fd", "3", "--duration", "6s", "--format", "json", "--cache", "kmalloc-2k", "--top", "0"});
  // --ready-fd: one JSON line once attached, for scripts and qemu guests.
  const std::string ready = snap.wait_ready(seconds(20));
  ASSERT_FALSE(ready.empty()) << snap.err();
  const json r = json::parse(ready);
  EXPECT_EQ(r.at("ready"), true);
  EXPECT_EQ(r.at("pid"), snap.pid());
  EXPECT_EQ(r.at("method"), "kfunc");
  EXPECT_EQ(r.at("caches"), json::array({"kmalloc-2k"}));
  Holder held("kmalloc", 2000);
  ASSERT_EQ(snap.wait_exit(seconds(30)), 0) << snap.err();
  const json j = json::parse(snap.out());
  EXPECT_EQ(j.at("cache_method"), "kfunc");
  EXPECT_EQ(j.at("sample_every"), 1);
  ASSERT_TRUE(j.at("stacks").is_array());
  ASSERT_FALSE(j.at("stacks").empty());
  for (const auto& s : j.at("stacks")) {
    EXPECT_TRUE(s.at("cache").is_string());
    EXPECT_TRUE(s.at("objects").is_number());
    EXPECT_TRUE(s.at("bytes").is_number());
    ASSERT_TRUE(s.at("frames").is_array());
    for (const auto& f : s.at("frames")) {
      const std::string fs = f.get<std::string>();
      // symbol+0xoff, never a raw kernel address by default (KASLR)
      EXPECT_EQ(fs.find("0xffff"), std::string::npos) << fs;
    }
  }
  EXPECT_NEAR(objects_under(j, "netlink_sendmsg", "kmalloc-2k"), 2000, 40);
  ASSERT_EQ(j.at("caches").size(), 1u);
  EXPECT_EQ(j.at("caches")[0].at("name"), "kmalloc-2k");
  EXPECT_TRUE(j.at("tracer").contains("recursion_misses"));
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

TEST(Cli, InterruptStillPrintsTheReport) {
  REQUIRE_BPF();
  for (int sig : {SIGINT, SIGTERM}) {
    Child snap({slableak_bin(), "snapshot", "--ready-fd", "3", "--duration", "10m", "--format", "json"});
    ASSERT_FALSE(snap.wait_ready(seconds(20)).empty()) << snap.err();
    Holder held("kmalloc", 500);
    snap.signal(sig);
    ASSERT_EQ(snap.wait_exit(seconds(10)), 0) << snap.err();
    const json j = json::parse(snap.out());
    EXPECT_NEAR(objects_under(j, "netlink_sendmsg", "kmalloc-2k"), 500, 10);
    EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
  }
}

TEST(Cli, FoldedAndTableFormats) {
  REQUIRE_BPF();
  Child snap({slableak_bin(), "snapshot", "--ready-fd", "3", "--duration", "4s", "--format", "folded"});
  ASSERT_FALSE(snap.wait_ready(seconds(20)).empty());
  Holder held("kmalloc", 1000);
  ASSERT_EQ(snap.wait_exit(seconds(30)), 0) << snap.err();
  // "kmalloc-2k;entry...;netlink_sendmsg;... BYTES", outermost first.
  EXPECT_NE(snap.out().find("kmalloc-2k;"), std::string::npos) << snap.out();
  EXPECT_NE(snap.out().find(";netlink_sendmsg;"), std::string::npos) << snap.out();

  Child table({slableak_bin(), "snapshot", "--ready-fd", "3", "--duration", "3s"});
  ASSERT_FALSE(table.wait_ready(seconds(20)).empty());
  Holder held2("kmalloc", 1000);
  ASSERT_EQ(table.wait_exit(seconds(30)), 0);
  EXPECT_NE(table.out().find("SLABINFO-DELTA"), std::string::npos);
  EXPECT_NE(table.out().find("netlink_sendmsg+0x"), std::string::npos);
  EXPECT_NE(table.out().find("drops: live map full"), std::string::npos);
}

TEST(Cli, NotRoot) {
  REQUIRE_BPF();
  const RunResult r = run_slableak({"snapshot", "--duration", "1s"}, seconds(20), /*drop_to_uid=*/65534);
  expect_one_line_error(r, 3, "must run as root");
}

TEST(Cli, NoBtf) {
  REQUIRE_BPF();
  // BTF really gone for the loader too (libbpf reads the same file).
  const RunResult r = run_slableak({"snapshot", "--duration", "1s"}, seconds(60), -1, kHideBtf);
  expect_one_line_error(r, 3, "CONFIG_DEBUG_INFO_BTF");
}

TEST(Cli, WorksWithoutTracefs) {
  REQUIRE_BPF();
  // tp_btf programs attach by name: tracefs need not be mounted.
  const RunResult r = run_slableak({"check"}, seconds(30), -1, kHideTracefs);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("ok: attached"), std::string::npos) << r.out;
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

TEST(Cli, UnknownCacheListsSimilarNames) {
  REQUIRE_BPF();
  const RunResult r = run_slableak({"snapshot", "--cache", "kmalloc-2kb"});
  expect_one_line_error(r, 2, "unknown cache 'kmalloc-2kb'");
  EXPECT_NE(r.err.find("kmalloc-2k"), std::string::npos);
}

// Bad --cache input: one line, exit 2, nothing attached.
TEST(Cli, UnknownMergedNameSuggestsTheRealOne) {
  REQUIRE_BPF();
  const RunResult r = run_slableak({"snapshot", "--cache", "eventpoll_pqw"});
  expect_one_line_error(r, 2, "unknown cache 'eventpoll_pqw'");
  EXPECT_NE(r.err.find("eventpoll_pwq"), std::string::npos) << r.err;
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

TEST(Cli, GlobMatchingNothingRefused) {
  REQUIRE_BPF();
  const RunResult r = run_slableak({"snapshot", "--cache", "kmalloc-rnd-*"});
  expect_one_line_error(r, 2, "matches no cache");
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

TEST(Cli, CacheTheMethodCannotNameRefused) {
  REQUIRE_BPF();
  // The derived method cannot tell msg_msg-2k from kmalloc-2k and
  // kmalloc-cg-2k; the refusal names the method that can, not another cache.
  const RunResult r = run_slableak({"snapshot", "--method", "derived", "--cache", "msg_msg-2k"});
  expect_one_line_error(r, 2, "leave --method at auto");
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// Option errors are decided before the kernel is asked: no BPF needed.
TEST(Cli, BadDuration) {
  expect_one_line_error(run_slableak({"snapshot", "--duration", "30x"}), 2, "bad --duration '30x'");
  expect_one_line_error(run_slableak({"snapshot", "--duration", "-5s"}), 2, "bad --duration");
  expect_one_line_error(run_slableak({"snapshot", "--min-age", "soon"}), 2, "bad --min-age");
}

TEST(Cli, BadNumbers) {
  expect_one_line_error(run_slableak({"snapshot", "--max-tracked", "12q"}), 2, "bad --max-tracked '12q'");
  expect_one_line_error(run_slableak({"snapshot", "--max-tracked", "0"}), 2, "--max-tracked");
  expect_one_line_error(run_slableak({"snapshot", "--sample-every", "0"}), 2, "--sample-every");
  expect_one_line_error(run_slableak({"snapshot", "--format", "xml"}), 2, "bad --format 'xml'");
}

// Out of range is refused before anything is loaded (it once reached the
// kernel and came back as libbpf's log, exit 1).
TEST(Cli, MaxTrackedOutOfRange) {
  const RunResult r = run_slableak({"snapshot", "--max-tracked", "4000000000", "--duration", "1s"});
  expect_one_line_error(r, 2, "--max-tracked 4000000000 is out of range");
}

TEST(Cli, CachesNeedsNoBpf) {
  const RunResult r = run_slableak({"caches"});
  if (geteuid() != 0) {  // /proc/slabinfo is root's: the one-line error says so
    expect_one_line_error(r, 3, "run slableak as root");
    return;
  }
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("kmalloc-2k "), std::string::npos);
  EXPECT_NE(r.out.find("msg_msg-2k"), std::string::npos);
  EXPECT_NE(r.out.find("eventpoll_pwq"), std::string::npos) << "merged names are listed";
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

}  // namespace
}  // namespace slableak::test
