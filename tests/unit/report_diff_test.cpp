// slableak diff on recorded reports. tests/data/diff/ holds real JSON written
// by `slableak snapshot -d 6s --format json` on the development VM (6.18,
// kfunc), each with build/holder started 2 s into the trace:
//   quiet.json               -c kmalloc-2k --top 0, no holder
//   netlink300.json          -c kmalloc-2k --top 0, holder kmalloc 300
//   netlink600.json          -c kmalloc-2k --top 0, holder kmalloc 600
//   netlink600-top1.json     -c kmalloc-2k --top 1, holder kmalloc 600
//   netlink300-with-cg.json  -c kmalloc-2k -c kmalloc-cg-2k --top 0, holder kmalloc 300
// (the holder's two netlink sockets are the 2 objects under sk_prot_alloc).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "diff_output.h"
#include "error.h"
#include "kallsyms.h"
#include "report_diff.h"
#include "report_reader.h"
#include "stack_digest.h"

namespace slableak {
namespace {

std::string data(const std::string& name) {
  std::ifstream f(std::string(TESTDATA_DIR) + "/diff/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << name;
  return ss.str();
}

RecordedReport recorded(const std::string& name) { return read_report_json(data(name), name); }

const DiffRow* row_with(const ReportDiff& d, const std::string& innermost_function) {
  for (const auto& r : d.rows)
    if (!r.frames.empty() && function_of_frame(r.frames.front()) == innermost_function) return &r;
  return nullptr;
}

constexpr int64_t kSkbBytes = 2048;

TEST(ReportDiff, AHeldLeakAppears) {
  const ReportDiff d = diff_reports(recorded("quiet.json"), recorded("netlink300.json"));
  const DiffRow* leak = row_with(d, "__alloc_skb");
  ASSERT_NE(leak, nullptr);
  EXPECT_EQ(leak->change, Change::appeared);
  EXPECT_EQ(leak->matched_by, MatchedBy::none);
  EXPECT_EQ(leak->objects_before, 0);
  EXPECT_EQ(leak->objects_after, 300);
  EXPECT_EQ(leak->bytes_delta(), 300 * kSkbBytes);
  EXPECT_EQ(leak->ids_after, std::vector<std::string>{"97425f69ff966769"});
  EXPECT_EQ(leak->frames.at(1), "netlink_sendmsg+0x152");
  // The largest change comes first.
  EXPECT_EQ(&d.rows.front(), leak);
  EXPECT_EQ(d.count(Change::appeared), 2u);  // and the holder's two sockets
  EXPECT_EQ(d.count(Change::disappeared), 0u);
  // quiet.json lists one stack whose objects were all freed: not a row.
  EXPECT_EQ(d.rows.size(), 2u);
  ASSERT_EQ(d.caches.size(), 1u);
  EXPECT_EQ(d.caches[0].objects_before, 0);
  EXPECT_EQ(d.caches[0].objects_after, 302);
  EXPECT_TRUE(d.notes.empty()) << d.notes.front();
}

TEST(ReportDiff, AFixedLeakDisappears) {
  const ReportDiff d = diff_reports(recorded("netlink300.json"), recorded("quiet.json"));
  const DiffRow* leak = row_with(d, "__alloc_skb");
  ASSERT_NE(leak, nullptr);
  EXPECT_EQ(leak->change, Change::disappeared);
  EXPECT_EQ(leak->objects_delta(), -300);
  EXPECT_EQ(leak->verdict_before, "unsure");  // 6 s is too short to judge
  EXPECT_EQ(leak->verdict_after, "");
  EXPECT_EQ(d.count(Change::disappeared), 2u);
}

TEST(ReportDiff, SameStackMatchedByIdGrowsAndShrinks) {
  const ReportDiff grew = diff_reports(recorded("netlink300.json"), recorded("netlink600.json"));
  const DiffRow* leak = row_with(grew, "__alloc_skb");
  ASSERT_NE(leak, nullptr);
  EXPECT_EQ(leak->change, Change::grew);
  EXPECT_EQ(leak->matched_by, MatchedBy::stack_id);
  EXPECT_EQ(leak->objects_before, 300);
  EXPECT_EQ(leak->objects_after, 600);
  EXPECT_EQ(leak->bytes_delta(), 300 * kSkbBytes);
  const DiffRow* sockets = row_with(grew, "sk_prot_alloc");
  ASSERT_NE(sockets, nullptr);
  EXPECT_EQ(sockets->change, Change::unchanged);
  EXPECT_EQ(&grew.rows.back(), sockets);  // unchanged last

  const ReportDiff shrank = diff_reports(recorded("netlink600.json"), recorded("netlink300.json"));
  ASSERT_NE(row_with(shrank, "__alloc_skb"), nullptr);
  EXPECT_EQ(row_with(shrank, "__alloc_skb")->change, Change::shrank);
  EXPECT_EQ(row_with(shrank, "__alloc_skb")->objects_delta(), -300);
}

// The AFTER report as another build of the same kernel would print it:
// every offset moved, so every stable id differs.
RecordedReport rebuilt(RecordedReport r) {
  const std::regex offset(R"(\+0x([0-9a-f]+))");
  for (auto& st : r.stacks) {
    for (auto& f : st.frames) {
      std::smatch m;
      if (!std::regex_search(f, m, offset)) { ADD_FAILURE() << "no offset in " << f; continue; }
      const unsigned long moved = std::stoul(m[1].str(), nullptr, 16) + 0x10;
      std::ostringstream hex;
      hex << "+0x" << std::hex << moved;
      f = m.prefix().str() + hex.str() + m.suffix().str();
    }
    st.stack_id = stack_digest(st.frames);
  }
  return r;
}

TEST(ReportDiff, OffsetsMovedWithANewKernelBuildMatchByFunctions) {
  const RecordedReport before = recorded("netlink300.json");
  const RecordedReport after = rebuilt(recorded("netlink600.json"));
  ASSERT_NE(after.stacks.front().stack_id, before.stacks.front().stack_id);
  const ReportDiff d = diff_reports(before, after);
  const DiffRow* leak = row_with(d, "__alloc_skb");
  ASSERT_NE(leak, nullptr);
  EXPECT_EQ(leak->change, Change::grew);
  EXPECT_EQ(leak->matched_by, MatchedBy::functions);
  EXPECT_EQ(leak->objects_before, 300);
  EXPECT_EQ(leak->objects_after, 600);
  EXPECT_EQ(leak->frames.at(1), "netlink_sendmsg");  // without offsets: they differ
  EXPECT_EQ(leak->ids_before, std::vector<std::string>{"97425f69ff966769"});
  EXPECT_EQ(leak->ids_after, std::vector<std::string>{after.stacks.front().stack_id});
  EXPECT_EQ(d.count(Change::appeared) + d.count(Change::disappeared), 0u);
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_NE(d.notes[0].find("2 stacks were matched by function names only"), std::string::npos) << d.notes[0];
}

TEST(ReportDiff, AListCutByTopIsSaid) {
  const RecordedReport cut = recorded("netlink600-top1.json");
  ASSERT_EQ(cut.stacks.size(), 1u);
  ASSERT_EQ(cut.stacks_total, 2u);
  const ReportDiff d = diff_reports(recorded("netlink300.json"), cut);
  // The sockets are below AFTER's cut, so they look gone; the note says why.
  EXPECT_EQ(row_with(d, "sk_prot_alloc")->change, Change::disappeared);
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_EQ(d.notes[0],
            "AFTER lists 1 of its 2 stacks (--top): a stack below its cut shows as appeared or disappeared; write "
            "both with --top 0");
}

TEST(ReportDiff, ACacheFollowedOnOneSideIsNotCompared) {
  const ReportDiff d = diff_reports(recorded("netlink300.json"), recorded("netlink300-with-cg.json"));
  for (const auto& r : d.rows) EXPECT_EQ(r.cache, "kmalloc-2k");
  EXPECT_EQ(d.count(Change::unchanged), 2u);
  ASSERT_EQ(d.caches.size(), 2u);
  EXPECT_FALSE(d.caches[1].in_before);
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_EQ(d.notes[0], "kmalloc-cg-2k was followed only in AFTER: its stacks are not compared");
}

TEST(ReportDiff, ReportOfAnotherContractVersionIsRefusedNamingBoth) {
  nlohmann::json v2 = nlohmann::json::parse(data("netlink600.json"));
  v2["schema_version"] = 2;
  const RecordedReport newer = read_report_json(v2.dump(), "new.json");
  EXPECT_EQ(newer.schema_version, 2);
  try {
    diff_reports(recorded("netlink300.json"), newer);
    FAIL() << "compared versions 1 and 2";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_EQ(std::string(e.what()),
              "BEFORE (netlink300.json) has JSON contract version 1, AFTER (new.json) version 2: compare reports of "
              "one contract version");
  }
  EXPECT_THROW(diff_reports(newer, newer), Error);  // a version this slableak does not read
}

TEST(ReportDiff, ReportsGroupedDifferentlyAreRefused) {
  RecordedReport by_comm = recorded("netlink600.json");
  by_comm.by = "comm";
  EXPECT_THROW(diff_reports(recorded("netlink300.json"), by_comm), Error);
}

// With --by, a row is a stack and a task: the same stack under another
// task is another row (the recorded reports, given tasks here).
TEST(ReportDiff, WithByTheTaskIsPartOfTheMatch) {
  RecordedReport before = recorded("netlink300.json"), after = recorded("netlink600.json");
  before.by = after.by = "comm";
  for (auto& st : before.stacks) st.task = "holder";
  for (auto& st : after.stacks) st.task = "holder";
  RecordedStack other = after.stacks.front();
  other.task = "snapd";
  other.objects = 5;
  other.bytes = 5 * kSkbBytes;
  after.stacks.push_back(other);
  const ReportDiff d = diff_reports(before, after);
  ASSERT_EQ(d.count(Change::grew), 1u);
  ASSERT_EQ(d.count(Change::appeared), 1u);
  for (const auto& r : d.rows) {
    if (r.change == Change::grew) {
      EXPECT_EQ(r.task, "holder");
      EXPECT_EQ(r.objects_delta(), 300);
    }
    if (r.change == Change::appeared) {
      EXPECT_EQ(r.task, "snapd");
      EXPECT_EQ(r.objects_after, 5);
    }
  }
  std::ostringstream table;
  write_diff_table(table, before, after, d, 0);
  EXPECT_NE(table.str().find("appeared  kmalloc-2k  comm snapd  objects 0 -> 5"), std::string::npos) << table.str();
}

void expect_not_a_report(const std::string& text, const std::string& needle) {
  try {
    read_report_json(text, "x.json");
    FAIL() << "accepted: " << text;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind("x.json ", 0), 0u) << msg;  // names the file first
  }
}

TEST(ReportReader, WhatIsNotASlableakReportIsOneLineNamingTheProblem) {
  expect_not_a_report("objects 3\n", "not JSON");
  expect_not_a_report("[1,2]", "not a JSON object");
  expect_not_a_report(R"({"name": "something else"})", "no schema_version");
  expect_not_a_report(R"({"schema_version": 1})", "no 'stacks' array");
  expect_not_a_report(R"({"schema_version": 1, "stacks": [], "caches": [{"name": "kmalloc-2k"}]})",
                      "caches[0] has no numeric 'attributed_objects'");
  expect_not_a_report(R"({"schema_version": 1, "caches": [], "stacks": [{"cache": "kmalloc-2k", "stack_id": "a",
                      "objects": "many", "bytes": 1, "frames": []}]})",
                      "stacks[0] has no numeric 'objects'");
  expect_not_a_report(data("netlink300.json") + data("quiet.json"), "more than one document");
  // A diff is not a report.
  const RecordedReport a = recorded("quiet.json"), b = recorded("netlink300.json");
  std::ostringstream out;
  write_diff_json(out, a, b, diff_reports(a, b), 0);
  expect_not_a_report(out.str(), "output of 'slableak diff'");
}

TEST(DiffOutput, TableSaysWhatChangedWithTheFrames) {
  const RecordedReport a = recorded("quiet.json"), b = recorded("netlink300.json");
  std::ostringstream out;
  write_diff_table(out, a, b, diff_reports(a, b), 20);
  const std::string t = out.str();
  EXPECT_NE(t.find("  BEFORE quiet.json (2026-11-29 21:08:"), std::string::npos) << t;
  EXPECT_NE(t.find("stacks: 2 appeared, 0 disappeared, 0 grew, 0 shrank, 0 unchanged\n"), std::string::npos) << t;
  EXPECT_NE(t.find("#1 appeared  kmalloc-2k  objects 0 -> 300 (+300)  bytes 0 B -> 600.0 KiB (+600.0 KiB)  verdict - "
                   "-> unsure  id 97425f69ff966769\n    __alloc_skb+0x80\n    netlink_sendmsg+0x152\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("kmalloc-2k                          0            302       +302     +604.0 KiB\n"), std::string::npos)
      << t;
}

TEST(DiffOutput, JsonCarriesItsOwnContractVersionAndEveryRowUpToTop) {
  const RecordedReport a = recorded("netlink300.json"), b = recorded("netlink600.json");
  std::ostringstream out;
  write_diff_json(out, a, b, diff_reports(a, b), 0);
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j.at("diff_schema_version"), kDiffSchemaVersion);
  EXPECT_EQ(j.at("report_schema_version"), 1);
  EXPECT_EQ(j.at("counts").at("grew"), 1);
  EXPECT_EQ(j.at("counts").at("unchanged"), 1);
  ASSERT_EQ(j.at("stacks").size(), 2u);
  EXPECT_EQ(j.at("stacks")[0].at("change"), "grew");
  EXPECT_EQ(j.at("stacks")[0].at("matched_by"), "stack_id");
  EXPECT_EQ(j.at("stacks")[0].at("objects_delta"), 300);
  EXPECT_EQ(j.at("stacks")[0].at("bytes_delta"), 300 * kSkbBytes);
  EXPECT_EQ(j.at("before").at("file"), "netlink300.json");
  EXPECT_EQ(j.at("after").at("stacks_total"), 2);
  std::ostringstream one;
  write_diff_json(one, a, b, diff_reports(a, b), 1);
  EXPECT_EQ(nlohmann::json::parse(one.str()).at("stacks").size(), 1u);
}

// A report from another host may carry anything in its strings: an OSC 52
// clipboard write, a screen clear, a carriage return, DEL, a C1 CSI in UTF-8.
// Nothing of it reaches the terminal raw, in the table or in JSON.
bool terminal_clean(const std::string& out) {
  for (const char ch : out) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\n') || c >= 0x7f) return false;
  }
  return true;
}

TEST(DiffOutput, HostileStringsInAReportAreEscapedInEveryOutput) {
  const std::string evil = R"(\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[2J\r\u007f\u009b31m)";
  const auto report = [&](int64_t objects) {
    return R"({"schema_version": 1, "cache_method": "kfunc)" + evil + R"(", "by": "comm)" + evil +
           R"(", "caches": [{"name": "kmalloc-2k)" + evil + R"(", "attributed_objects": )" +
           std::to_string(objects) + R"(, "attributed_bytes": 1}], "stacks": [{"cache": "kmalloc-2k)" + evil +
           R"(", "stack_id": "id)" + evil + R"(", "objects": )" + std::to_string(objects) +
           R"(, "bytes": 1, "verdict": "growing)" + evil + R"(", "task": "task)" + evil + R"(", "frames": ["f)" +
           evil + R"(+0x1"]}]})";
  };
  const RecordedReport a = read_report_json(report(1), "a\x1b[2J.json");
  const RecordedReport b = read_report_json(report(5), "b.json");
  const ReportDiff d = diff_reports(a, b);
  ASSERT_EQ(d.count(Change::grew), 1u);
  std::ostringstream table, json;
  write_diff_table(table, a, b, d, 0);
  write_diff_json(json, a, b, d, 0);
  EXPECT_TRUE(terminal_clean(table.str())) << table.str();
  EXPECT_TRUE(terminal_clean(json.str())) << json.str();
  // Escaped, not dropped: the reader sees what was there.
  EXPECT_NE(table.str().find(R"(f\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x0d\x7f\xc2\x9b31m+0x1)"), std::string::npos)
      << table.str();
}

TEST(FunctionOfFrame, DropsOffsetAndRawAddressKeepsModule) {
  EXPECT_EQ(function_of_frame("__alloc_skb+0x80"), "__alloc_skb");
  EXPECT_EQ(function_of_frame("io_uring_setup.cold+0x9c"), "io_uring_setup.cold");
  EXPECT_EQ(function_of_frame("nf_hook+0x1a [nf_tables]"), "nf_hook [nf_tables]");
  EXPECT_EQ(function_of_frame("nf_hook+0x1a [nf_tables] (0xffffffffc0a01234)"), "nf_hook [nf_tables]");
  EXPECT_EQ(function_of_frame("__alloc_skb+0x80 (0xffffffff81a2b3c4)"), "__alloc_skb");
  EXPECT_EQ(function_of_frame("[unknown]"), "[unknown]");
  EXPECT_EQ(function_of_frame("[stack unavailable]"), "[stack unavailable]");
}

}  // namespace
}  // namespace slableak
