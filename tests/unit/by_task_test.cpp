// --by: held objects split by who allocated them. The kernel hands out a
// task slot per task (bpf/task_key.h); aggregation keeps one row per
// (cache, stack, slot), names it from KernelRead::task_names, and every
// output says which task a row is.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aggregation.h"
#include "error.h"
#include "prometheus_text.h"
#include "report.h"
#include "run_config.h"
#include "task_names.h"

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

// A task's keys that ended empty are retired from the kernel map, their
// totals kept as history; the next read has no key of that slot at all.
// Its history row still needs a label (this threw std::out_of_range and
// ended the exporter once a --by task's last objects were freed).
TEST(ByTask, HistoryOfATaskWhoseKeysWereRetiredKeepsItsLabel) {
  Fixture f;
  Aggregator a({"kmalloc-2k"}, 1, 60);
  a.set_by_task(true);
  const auto resolve = [&f](uint32_t id) -> const SymbolizedStack& { return f.by_id.at(id); };
  KernelRead r1 = f.read();
  r1.now_ns = uint64_t{10} << 30;  // epoch 1 ended long ago
  r1.aggs.push_back(row(1, 3, 0));
  r1.aggs.back().val.allocs = 4;
  r1.aggs.back().val.frees = 4;
  r1.task_names[3] = "cron";
  std::vector<slk_agg_key> retire;
  a.ingest(r1, resolve, &retire);
  ASSERT_FALSE(retire.empty());
  KernelRead r2 = f.read();
  r2.now_ns = r1.now_ns;
  r2.aggs = {row(1, 1, 300)};
  r2.aggs.back().key.epoch = 9;
  std::vector<StackReport> rows;
  ASSERT_NO_THROW(rows = a.ingest(r2, resolve, &retire));
  const StackReport* cron = task_row(rows, "task#3");
  ASSERT_NE(cron, nullptr) << "the retired task's history has no row";
  EXPECT_EQ(cron->allocs, 4u);
  EXPECT_EQ(cron->objects, 0);
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

// Every sample line of @text ("name{labels} value") names a distinct
// series: the name with its label set.
void expect_unique_series(const std::string& text) {
  std::istringstream in(text);
  std::map<std::string, int> seen;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') ++seen[line.substr(0, line.rfind(' '))];
  for (const auto& [series, n] : seen) EXPECT_EQ(n, 1) << series;
}

// Names that meet (task_labels.h): a process named "other" beside slot 0,
// two comms escaped alike, two cgroup paths alike in their first 200
// characters, a comm "task#5" beside a slot without a name. Each slot keeps
// a name of its own, and the exposition has no series twice.
TEST(ByTask, LabelsAreUniqueByConstruction) {
  Fixture f;
  KernelRead r = f.read();
  r.aggs = {row(1, 0, 7), row(1, 1, 10), row(1, 2, 11), row(1, 3, 12), row(1, 4, 13), row(1, 5, 14), row(1, 6, 15)};
  const std::string cut = "/" + std::string(199, 'a') + "...";
  r.task_names = {{1, "other"}, {2, "\\x01A"}, {3, "\\x01A"}, {4, cut}, {6, "task#5"}};
  Aggregator a({"kmalloc-2k"}, 1, 60);
  a.set_by_task(true);
  std::vector<slk_agg_key> retire;
  const auto rows = a.ingest(r, [&f](uint32_t id) -> const SymbolizedStack& { return f.by_id.at(id); }, &retire);
  std::map<std::string, int64_t> by_name;
  for (const auto& st : rows) EXPECT_TRUE(by_name.emplace(st.task, st.objects).second) << st.task;
  EXPECT_EQ(by_name["other"], 7);  // the tasks past --by-limit keep the name the docs give
  EXPECT_EQ(by_name["other #1"], 10);
  EXPECT_EQ(by_name["\\x01A"], 11);
  EXPECT_EQ(by_name["\\x01A #3"], 12);
  EXPECT_EQ(by_name["task#5"], 14);
  EXPECT_EQ(by_name["task#5 #6"], 15);

  Snapshot s;
  s.by = "comm";
  s.stacks = rows;
  CacheHeader c;
  c.name = "kmalloc-2k";
  s.caches.push_back(c);
  ExpositionInfo info;
  info.top_stacks = 3;  // slots past the top 3 go to the "other" row too
  expect_unique_series(render_prometheus(s, info));
  info.top_stacks = 100;
  expect_unique_series(render_prometheus(s, info));
}

// Comms that differ only past the 16th escaped character are named apart.
TEST(ByTask, CommsAreNeverCut) {
  TaskNames names(TaskKey::comm);
  slk_task_key a{}, b{};
  std::memset(a.comm, 1, 14);
  std::memset(b.comm, 1, 14);
  a.comm[14] = 'A';
  b.comm[14] = 'B';
  std::string escaped;
  for (int i = 0; i < 14; ++i) escaped += "\\x01";
  EXPECT_EQ(names.name(a), escaped + "A");
  EXPECT_EQ(names.name(b), escaped + "B");
}

// --by cgroup: the cgroup2 mount from mountinfo, wherever it is.
TEST(ByTask, FindsTheCgroup2MountOnHybridAndUnifiedHosts) {
  const std::string hybrid =
      "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
      "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  const auto h = find_cgroup2_mount(hybrid);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ(h->root, "/");
  EXPECT_EQ(h->dev, makedev(0, 37));
  // Optional fields before the separator; a bind mount of a sub-cgroup
  // first, the whole hierarchy later; an escaped space in the path.
  const auto u = find_cgroup2_mount(
      "29 1 0:26 /kubepods /mnt/pods rw shared:9 - cgroup2 cgroup2 rw\n"
      "28 22 0:26 / /sys/fs/my\\040cgroup rw,nosuid shared:4 master:1 - cgroup2 cgroup2 rw,nsdelegate\n");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->mount_point, "/sys/fs/my cgroup");
  EXPECT_EQ(u->dev, makedev(0, 26));
  const auto sub = find_cgroup2_mount("29 1 0:26 /kubepods /mnt/pods rw shared:9 - cgroup2 cgroup2 rw\n");
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->root, "/kubepods");
  EXPECT_FALSE(find_cgroup2_mount("31 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n").has_value());
  EXPECT_FALSE(find_cgroup2_mount("garbage\n\n- cgroup2\n").has_value());
}

// Only the cgroup2 mount is walked: a directory of another hierarchy
// (numbered alike) is never a cgroup's name; paths are relative to the
// cgroup the mount shows, with no prefix of where it is mounted.
TEST(ByTask, CgroupNamesComeFromTheCgroup2MountOnly) {
  std::string tmpl = std::filesystem::temp_directory_path() / "slableak-cgroups.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::string dir = tmpl;
  std::filesystem::create_directories(dir + "/unified/a/b");
  std::filesystem::create_directories(dir + "/cpu/x");
  struct stat st{}, b{}, x{};
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  ASSERT_EQ(stat((dir + "/unified/a/b").c_str(), &b), 0);
  ASSERT_EQ(stat((dir + "/cpu/x").c_str(), &x), 0);
  const auto mountinfo = [&](const std::string& root) {
    std::ofstream(dir + "/mountinfo") << "40 30 " << major(st.st_dev) << ":" << minor(st.st_dev) << " " << root << " "
                                      << dir << "/unified rw,relatime - cgroup2 cgroup2 rw\n";
  };
  mountinfo("/");
  slk_task_key kb{}, kx{};
  kb.id = b.st_ino;
  kx.id = x.st_ino;
  {
    TaskNames names(TaskKey::cgroup, dir + "/mountinfo");
    EXPECT_EQ(names.name(kb), "/a/b");
    EXPECT_EQ(names.name(kx), "cgroup " + std::to_string(x.st_ino));
  }
  mountinfo("/kubepods");
  {
    TaskNames names(TaskKey::cgroup, dir + "/mountinfo");
    EXPECT_EQ(names.name(kb), "/kubepods/a/b");
  }
  // An id not found (its cgroup removed since) is not walked for again on
  // every refresh: on a host with thousands of cgroups each walk is
  // thousands of syscalls. Here the walk would now find it, and does not.
  {
    TaskNames names(TaskKey::cgroup, dir + "/mountinfo");
    EXPECT_EQ(names.name(kx), "cgroup " + std::to_string(x.st_ino));
    std::ofstream(dir + "/mountinfo") << "40 30 " << major(st.st_dev) << ":" << minor(st.st_dev) << " / " << dir
                                      << " rw,relatime - cgroup2 cgroup2 rw\n";
    EXPECT_EQ(names.name(kx), "cgroup " + std::to_string(x.st_ino)) << "walked again at once";
    TaskNames fresh(TaskKey::cgroup, dir + "/mountinfo");
    EXPECT_EQ(fresh.name(kx), "/cpu/x");
  }
  // A mount point on another device than mountinfo says (something mounted
  // over it): nothing is named from it.
  std::ofstream(dir + "/mountinfo") << "40 30 0:9999 / " << dir << "/unified rw - cgroup2 cgroup2 rw\n";
  {
    TaskNames names(TaskKey::cgroup, dir + "/mountinfo");
    EXPECT_EQ(names.name(kb), "cgroup " + std::to_string(b.st_ino));
  }
  std::filesystem::remove_all(dir);
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
