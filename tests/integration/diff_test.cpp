// slableak diff on real reports: one taken while nothing of ours was held,
// one while the holder kept netlink messages in kmalloc-2k. The held stack
// appears in one direction and disappears in the other, by the count the
// holder made. Bad files are one line and exit 2. About 8 s.
#include <filesystem>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>

#include "support.h"

namespace slableak::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr unsigned kHeld = 500;

// A 3 s kmalloc-2k report in @path; with @held, the holder keeps that many
// netlink messages from 1 s into the trace until the report is written.
void record(const std::string& path, unsigned held) {
  Child snap({slableak_bin(), "snapshot", "--ready-fd", "3", "-d", "3s", "-c", "kmalloc-2k", "--format", "json", "--top", "0"});
  ASSERT_FALSE(snap.wait_ready(seconds(20)).empty()) << snap.err();
  std::optional<Holder> holder;
  if (held) holder.emplace("kmalloc", held);
  ASSERT_EQ(snap.wait_exit(seconds(30)), 0) << snap.err();
  std::ofstream(path) << snap.out();
}

// The diff row of the holder's stack (netlink_sendmsg -> __alloc_skb).
json netlink_row(const json& d) {
  for (const auto& s : d.at("stacks"))
    for (const auto& f : s.at("frames"))
      if (f.get<std::string>().rfind("netlink_sendmsg+", 0) == 0 && s.at("frames")[0].get<std::string>().rfind(
                                                                           "__alloc_skb+", 0) == 0)
        return s;
  return json();
}

TEST(Diff, AHeldLeakAppearsAndDisappears) {
  REQUIRE_BPF();
  const std::string dir = make_temp_dir("slableak-diff");
  const std::string quiet = dir + "/quiet.json", held = dir + "/held.json";
  record(quiet, 0);
  record(held, kHeld);

  const RunResult up = run_slableak({"diff", "--format", "json", "--top", "0", quiet, held});
  ASSERT_EQ(up.status, 0) << up.err;
  const json d = json::parse(up.out);
  EXPECT_EQ(d.at("diff_schema_version"), 1);
  const json leak = netlink_row(d);
  ASSERT_FALSE(leak.is_null()) << up.out;
  // appeared; grew only if another process held objects on this stack in the quiet report.
  EXPECT_TRUE(leak.at("change") == "appeared" || leak.at("change") == "grew") << leak.dump();
  // Other processes may send netlink messages too: near, as in Cli.SnapshotJsonContract.
  EXPECT_NEAR(leak.at("objects_delta").get<int64_t>(), kHeld, 40) << up.out;
  EXPECT_EQ(leak.at("bytes_delta").get<int64_t>(), leak.at("objects_delta").get<int64_t>() * 2048);

  const RunResult down = run_slableak({"diff", held, quiet});
  ASSERT_EQ(down.status, 0) << down.err;
  EXPECT_NE(down.out.find("slableak diff\n  BEFORE " + held), std::string::npos) << down.out;
  const RunResult down_json = run_slableak({"diff", "-f", "json", "--top", "0", held, quiet});
  const json gone = netlink_row(json::parse(down_json.out));
  ASSERT_FALSE(gone.is_null()) << down_json.out;
  EXPECT_NEAR(gone.at("objects_delta").get<int64_t>(), -static_cast<int64_t>(kHeld), 40) << down_json.out;
  EXPECT_NE(down.out.find(gone.at("change").get<std::string>() + "  kmalloc-2k  objects "), std::string::npos)
      << down.out;
  std::filesystem::remove_all(dir);
}

void expect_one_line(const RunResult& r, const std::string& needle) {
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "expected one line: " << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(Diff, BadInputIsOneLineAndExit2) {
  // No BPF needed: diff reads files only.
  const std::string dir = make_temp_dir("slableak-diff");
  const std::string text = dir + "/notes.txt", v1 = dir + "/v1.json", v2 = dir + "/v2.json";
  std::ofstream(text) << "kmalloc-2k grew\n";
  const std::string report =
      R"({"schema_version": 1, "caches": [], "stacks": [], "time": 1, "elapsed_seconds": 1, "cache_method": "kfunc"})";
  std::ofstream(v1) << report;
  json j = json::parse(report);
  j["schema_version"] = 2;
  std::ofstream(v2) << j.dump();
  expect_one_line(run_slableak({"diff", v1}), "diff needs two reports");
  expect_one_line(run_slableak({"diff", v1, dir + "/missing.json"}), "missing.json: No such file");
  expect_one_line(run_slableak({"diff", text, v1}), "notes.txt is not a slableak JSON report");
  expect_one_line(run_slableak({"diff", v1, v2}), "AFTER (" + v2 + ") version 2");
  expect_one_line(run_slableak({"diff", "--top", "-1", v1, v1}), "--top");
  const RunResult same = run_slableak({"diff", v1, v1});
  EXPECT_EQ(same.status, 0) << same.err;
  EXPECT_NE(same.out.find("no stack changed"), std::string::npos) << same.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace slableak::test
