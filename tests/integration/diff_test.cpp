// slableak diff on real reports: one taken while nothing of ours was held,
// one while the holder kept netlink messages in kmalloc-2k. The held stack
// appears in one direction and disappears in the other, by the count the
// holder made. Bad files are one line and exit 2. About 8 s.
#include <sys/stat.h>

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

// Reports come from other hosts: a count no report holds, a number no
// double holds, nesting no report has, a file that is not a file. Each is
// one line and exit 2, and nothing is held in memory for long to decide.
TEST(Diff, InputOutOfBoundsIsOneLineAndExit2) {
  const std::string dir = make_temp_dir("slableak-diff-bounds");
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  const std::string ok = write("ok.json", R"({"schema_version": 1, "caches": [], "stacks": []})");
  const auto with_stack = [&](const std::string& name, const std::string& objects) {
    return write(name, R"({"schema_version": 1, "caches": [{"name": "kmalloc-2k", "attributed_objects": 1,
        "attributed_bytes": 1}], "stacks": [{"cache": "kmalloc-2k", "stack_id": "a", "objects": )" +
                           objects + R"(, "bytes": 2048, "frames": ["f+0x1"]}]})");
  };
  expect_one_line(run_slableak({"diff", ok, with_stack("huge.json", "9223372036854775808")}),
                  "huge.json is not a slableak JSON report (stacks[0] 'objects' is out of range");
  expect_one_line(run_slableak({"diff", ok, with_stack("max.json", "9223372036854775807")}),
                  "max.json is not a slableak JSON report (stacks[0] 'objects' is out of range");
  expect_one_line(run_slableak({"diff", ok, with_stack("negative.json", "-5")}),
                  "negative.json is not a slableak JSON report (stacks[0] 'objects' is out of range");
  expect_one_line(run_slableak({"diff", ok, with_stack("float.json", "1e400")}),
                  "float.json is not a slableak JSON report (a number out of range at byte");
  // Many stacks that add up past what one report can hold.
  std::string many = R"({"schema_version": 1, "caches": [], "stacks": [)";
  for (int i = 0; i < 3; ++i)
    many += std::string(i ? "," : "") + R"({"cache": "c", "stack_id": ")" + std::to_string(i) +
            R"(", "objects": 1, "bytes": 4000000000000000, "frames": []})";
  expect_one_line(run_slableak({"diff", ok, write("sum.json", many + "]}")}),
                  "sum.json is not a slableak JSON report (its stacks add up to more than");
  // Nesting no report has, in a field diff does not even read.
  const std::string deep = R"({"schema_version": 1, "caches": [], "stacks": [], "x": )" + std::string(100000, '[') +
                           std::string(100000, ']') + "}";
  expect_one_line(run_slableak({"diff", ok, write("deep.json", deep)}),
                  "deep.json is not a slableak JSON report (nested more than");
  // A FIFO nobody writes to, a device: refused, not waited on.
  const std::string fifo = dir + "/fifo.json";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  expect_one_line(run_slableak({"diff", fifo, ok}, seconds(20)), "fifo.json: not a regular file");
  expect_one_line(run_slableak({"diff", ok, "/dev/zero"}, seconds(20)), "/dev/zero: not a regular file");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace slableak::test
