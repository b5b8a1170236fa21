// --by: held objects split by who allocated them. The kernel hands out a
// task slot per task (bpf/task_key.h); aggregation keeps one row per
// (cache, stack, slot), names it from KernelRead::task_names, and every
// output says which task a row is.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aggregation.h"
#include "error.h"
#include "prometheus_text.h"
#include "report.h"
#include "run_config.h"

using namespace slableak;

namespace {

AggRow row(uint32_t stack, uint8_t task, int64_t objects) {
  AggRow r{};
  r.key.epoch = 1;
  r.key.stack_id = stack;
  r.key.epoch_shift = 30;
  r.key.task_slot = task;
  r.val.objects = objects;
  r.val.bytes = objects * 2048;
  r.val.allocs = static_cast<uint64_t>(objects);
  return r;
}

struct Fixture {
  std::map<uint32_t, SymbolizedStack> by_id = {
      {1, {{"__alloc_skb+0x80", "netlink_sendmsg+0x152"}, {"__alloc_skb", "netlink_sendmsg"}}},
  };
  KernelRead read() {
    KernelRead r;
    r.now_ns = uint64_t{3} << 30;
    // One kernel path, three tasks: two with slots of their own, and the
    // tasks past --by-limit in slot 0.
    r.aggs = {row(1, 1, 300), row(1, 2, 5), row(1, 0, 7)};
    r.task_names = {{1, "holder"}, {2, "snapd"}};
    return r;
  }
  std::vector<StackReport> ingest(bool by) {
    Aggregator a({"kmalloc-2k"}, 1, 60);
    a.set_by_task(by);
    std::vector<slk_agg_key> retire;
    return a.ingest(read(), [this](uint32_t id) -> const SymbolizedStack& { return by_id.at(id); }, &retire);
  }
};

const StackReport* task_row(const std::vector<StackReport>& v, const std::string& task) {
  for (const auto& s : v)
    if (s.task == task) return &s;
  return nullptr;
}

TEST(ByTask, OneRowPerTaskOnTheSameStackAndOtherPastTheLimit) {
  const auto rows = Fixture().ingest(true);
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_NE(task_row(rows, "holder"), nullptr);
  EXPECT_EQ(task_row(rows, "holder")->objects, 300);
  EXPECT_EQ(task_row(rows, "snapd")->objects, 5);
  ASSERT_NE(task_row(rows, "other"), nullptr);
  EXPECT_EQ(task_row(rows, "other")->objects, 7);
  // The stack is the same stack: the same id in every row.
  EXPECT_EQ(rows[0].stack_id, rows[1].stack_id);
}

Snapshot by_comm_snapshot() {
  Snapshot s;
  s.method = "kfunc";
  s.by = "comm";
  s.stacks = Fixture().ingest(true);
  sort_stacks(s.stacks, SortKey::bytes);
  CacheHeader c;
  c.name = "kmalloc-2k";
  s.caches.push_back(c);
  return s;
}

TEST(ByTask, EveryOutputNamesTheTask) {
  const Snapshot s = by_comm_snapshot();
  std::ostringstream json, table, folded;
  write_json(json, s, 0);
  const auto j = nlohmann::json::parse(json.str());
  EXPECT_EQ(j.at("by"), "comm");
  EXPECT_EQ(j.at("stacks")[0].at("task"), "holder");
  EXPECT_EQ(j.at("stacks")[0].at("objects"), 300);
  write_table(table, s, 0);
  EXPECT_NE(table.str().find("#1 kmalloc-2k  comm holder  "), std::string::npos) << table.str();
  EXPECT_NE(table.str().find("#3 kmalloc-2k  comm snapd  "), std::string::npos) << table.str();
  write_folded(folded, s, 0);
  EXPECT_NE(folded.str().find("kmalloc-2k;[comm=holder];netlink_sendmsg;__alloc_skb 614400\n"), std::string::npos)
      << folded.str();
}

TEST(ByTask, ExporterLabelsTheStackSeriesAndDescribesEachStackOnce) {
  const std::string text = render_prometheus(by_comm_snapshot(), ExpositionInfo{});
  EXPECT_NE(text.find("slableak_stack_outstanding_objects{cache=\"kmalloc-2k\",stack_id=\""), std::string::npos);
  EXPECT_NE(text.find("\",comm=\"holder\"} 300\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\",comm=\"other\"} 7\n"), std::string::npos) << text;
  size_t info = 0;
  for (size_t at = 0; (at = text.find("\nslableak_stack_info{", at)) != std::string::npos; ++at) ++info;
  EXPECT_EQ(info, 1u) << text;
}

TEST(ByTask, OffByDefaultAndNothingSaysTask) {
  const auto rows = Fixture().ingest(false);
  for (const auto& r : rows) EXPECT_EQ(r.task, "");
  Snapshot s;
  s.stacks = rows;
  std::ostringstream json;
  write_json(json, s, 0);
  const auto j = nlohmann::json::parse(json.str());
  EXPECT_FALSE(j.contains("by"));
  EXPECT_FALSE(j.at("stacks")[0].contains("task"));
  EXPECT_EQ(render_prometheus(s, ExpositionInfo{}).find("comm="), std::string::npos);
}

ParseResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "slableak");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_run_config(static_cast<int>(argv.size()), argv.data());
}

TEST(ByTask, OptionsAreValidated) {
  const RunConfig d = parse({"snapshot"}).config.value();
  EXPECT_EQ(d.trace.by, TaskKey::none);
  EXPECT_EQ(d.trace.by_limit, 32u);
  const RunConfig c = parse({"export", "--by", "cgroup", "--by-limit", "255"}).config.value();
  EXPECT_EQ(c.trace.by, TaskKey::cgroup);
  EXPECT_EQ(c.trace.by_limit, 255u);
  EXPECT_EQ(parse({"run", "--by", "pid", "--", "true"}).config.value().trace.by, TaskKey::pid);
  EXPECT_THROW(parse({"snapshot", "--by", "user"}), Error);
  EXPECT_THROW(parse({"snapshot", "--by-limit", "256"}), Error);
  EXPECT_THROW(parse({"snapshot", "--by-limit", "0"}), Error);
}

}  // namespace
