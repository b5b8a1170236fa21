#include "report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "error.h"
#include "target_arch.h"
#include "../support/sample_snapshot.h"

using namespace slableak;

namespace {

StackReport stack(const std::string& cache, std::vector<std::string> functions, int64_t objects, int64_t bytes,
                  const std::string& id) {
  StackReport s;
  s.cache = cache;
  s.stack_id = id;
  s.functions = functions;
  for (auto& f : functions) f += "+0x10";
  s.frames = functions;
  s.objects = objects;
  s.bytes = bytes;
  s.allocs = static_cast<uint64_t>(objects) + 1;
  s.frees = 1;
  s.oldest_age_s = 42;
  s.age_objects[1] = objects;
  return s;
}

Snapshot snapshot() {
  Snapshot s = sample_snapshot("derived", 192);
  s.arch.clear();
  s.kernel_release.clear();
  CacheHeader& c = s.caches.back();
  c.in_slabinfo = true;
  c.slab_active_start = 1000;
  c.slab_active_now = 1100;
  c.attributed_objects = 50;
  c.attributed_bytes = 102400;
  CacheHeader m;
  m.name = "msg_msg-2k";
  m.object_size = 2048;
  s.caches.push_back(m);
  s.stacks.push_back(stack("kmalloc-2k", {"load_msg", "do_msgsnd", "__x64_sys_msgsnd", "do_syscall_64"}, 40, 81920,
                           "1111111111111111"));
  s.stacks.push_back(stack("kmalloc-2k", {"my;fn [my mod]", "caller"}, 10, 20480, "2222222222222222"));
  s.stacks.push_back(stack("kmalloc-2k", {"freed_path"}, 0, 0, "3333333333333333"));
  s.health.counters[TracerCounter::drop_live_full] = 1;
  s.health.counters[TracerCounter::drop_agg_full] = 2;
  s.health.counters[TracerCounter::stack_errors] = 3;
  s.health.counters[TracerCounter::recursion_misses] = 4;
  s.health.counters[TracerCounter::stack_store_full] = 5;
  s.health.counters[TracerCounter::stack_collisions] = 6;
  s.health.counters[TracerCounter::stack_store_busy] = 7;
  s.health.counters[TracerCounter::cache_unnamed] = 8;
  s.health.counters[TracerCounter::allocs_selected] = 77;
  return s;
}

}  // namespace

TEST(Report, JsonContract) {
  std::ostringstream os;
  write_json(os, snapshot(), 0);
  const auto j = nlohmann::json::parse(os.str());  // throws if not valid JSON
  EXPECT_EQ(j.at("schema_version"), 1);
  EXPECT_EQ(j.at("cache_method"), "derived");
  ASSERT_EQ(j.at("stacks").size(), 3u);
  for (const auto& st : j.at("stacks")) {
    EXPECT_TRUE(st.contains("cache"));
    EXPECT_TRUE(st.contains("objects"));
    EXPECT_TRUE(st.contains("bytes"));
    EXPECT_TRUE(st.contains("frames"));
  }
  const auto& first = j.at("stacks")[0];
  EXPECT_EQ(first.at("cache"), "kmalloc-2k");
  EXPECT_EQ(first.at("objects"), 40);
  EXPECT_EQ(first.at("bytes"), 81920);
  EXPECT_EQ(first.at("frames")[0], "load_msg+0x10");
  EXPECT_EQ(first.at("objects_by_age").at("1m"), 40);
  const auto& c0 = j.at("caches")[0];
  EXPECT_EQ(c0.at("slabinfo_delta"), 100);
  EXPECT_DOUBLE_EQ(c0.at("explained_ratio").get<double>(), 0.5);
  EXPECT_FALSE(j.at("caches")[1].contains("slabinfo_delta"));  // not in slabinfo
  EXPECT_EQ(j.at("tracer").at("drop_aggregate_map_full"), 2);
}

TEST(Report, JsonTopLimits) {
  std::ostringstream os;
  write_json(os, snapshot(), 2);
  const auto j = nlohmann::json::parse(os.str());
  ASSERT_EQ(j.at("stacks").size(), 2u);
  EXPECT_EQ(j.at("stacks")[1].at("stack_id"), "2222222222222222");
}

TEST(Report, FoldedGolden) {
  std::ostringstream os;
  write_folded(os, snapshot(), 0);
  EXPECT_EQ(os.str(),
            "kmalloc-2k;do_syscall_64;__x64_sys_msgsnd;do_msgsnd;load_msg 81920\n"
            "kmalloc-2k;caller;my_fn_[my_mod] 20480\n");
}

TEST(Report, FoldedTopLimitsWrittenStacks) {
  // Sorted by growth, a stack with nothing outstanding can come first.
  Snapshot s = snapshot();
  std::swap(s.stacks[0], s.stacks[2]);  // freed_path, my;fn, load_msg
  std::ostringstream os;
  write_folded(os, s, 1);
  // report.h: "@top limits how many are written"; the zero-byte stack is not written.
  EXPECT_EQ(os.str(), "kmalloc-2k;caller;my_fn_[my_mod] 20480\n");
}

TEST(Report, TableHeaderAndDrops) {
  std::ostringstream os;
  write_table(os, snapshot(), 0);
  const std::string out = os.str();
  std::istringstream lines(out);
  std::string line;
  bool header = false, cache_line = false, unknown_line = false, drops = false;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    if (!w.empty() && w[0] == "CACHE") {
      header = true;
      EXPECT_EQ(w, (std::vector<std::string>{"CACHE", "OBJSIZE", "SLABINFO-DELTA", "ATTRIBUTED", "BYTES", "EXPLAINED"}));
    }
    if (!w.empty() && w[0] == "kmalloc-2k") {
      cache_line = true;
      EXPECT_EQ(w, (std::vector<std::string>{"kmalloc-2k", "2048", "+100", "50", "100.0", "KiB", "50%"}));
    }
    if (!w.empty() && w[0] == "msg_msg-2k") {
      unknown_line = true;
      ASSERT_GE(w.size(), 3u);
      EXPECT_EQ(w[2], "n/a");
      EXPECT_EQ(w.back(), "-");
    }
    if (line.rfind("drops:", 0) == 0) {
      drops = true;
      EXPECT_EQ(line, "drops: live map full 1, aggregate map full 2, stack capture failed 3, stack store full 5, "
                      "stack id collisions 6, stack store busy 7, cache not named 8, recursion misses 4");
    }
  }
  EXPECT_TRUE(header);
  EXPECT_TRUE(cache_line);
  EXPECT_TRUE(unknown_line);
  EXPECT_TRUE(drops);
  EXPECT_NE(out.find("3m12s traced"), std::string::npos) << out;
  EXPECT_NE(out.find("    load_msg+0x10\n"), std::string::npos) << out;
  EXPECT_NE(out.find("id 2222222222222222"), std::string::npos) << out;
}

// Where stack fingerprints are off (arm64, --no-stack-cache), every report
// says so and why, instead of a count that stays 0 without explanation.
TEST(Report, StackFingerprintStateIsStated) {
  Snapshot s = snapshot();
  s.arch = "arm64";
  s.stack_fingerprints = stack_fingerprints_state(true, false, "arm64");
  std::ostringstream js;
  write_json(js, s, 0);
  const auto j = nlohmann::json::parse(js.str());
  EXPECT_EQ(j.at("arch"), "arm64");
  EXPECT_EQ(j.at("stack_fingerprints"), "off: not proven on arm64");
  std::ostringstream table;
  write_table(table, s, 0);
  EXPECT_NE(table.str().find("\nstack fingerprints off: not proven on arm64 (every tracked allocation unwound)\n"),
            std::string::npos)
      << table.str();

  s.stack_fingerprints = stack_fingerprints_state(true, true, "x86_64");
  EXPECT_EQ(s.stack_fingerprints, "on");
  std::ostringstream on;
  write_table(on, s, 0);
  EXPECT_EQ(on.str().find("stack fingerprints o"), std::string::npos) << on.str();
  EXPECT_EQ(stack_fingerprints_state(false, true, "x86_64"), "off: --no-stack-cache");
}

TEST(Report, ParseFormat) {
  EXPECT_EQ(parse_format("table"), Format::table);
  EXPECT_EQ(parse_format("json"), Format::json);
  EXPECT_EQ(parse_format("folded"), Format::folded);
  EXPECT_EQ(parse_format("svg"), Format::svg);
  EXPECT_EQ(parse_format("html"), Format::html);
  for (const char* bad : {"", "JSON", "yaml"}) {
    SCOPED_TRACE(bad);
    try {
      parse_format(bad);
      ADD_FAILURE() << "no throw";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::usage);
    }
  }
}

// kmalloc-large's objects are in no slab cache: whatever the run's method,
// the header says they were told apart by size, not named by it.
TEST(Report, HeaderSaysKmallocLargeIsToldApartBySize) {
  Snapshot s = snapshot();
  s.method = "kfunc";
  std::ostringstream without;
  write_table(without, s, 0);
  EXPECT_EQ(without.str().find("kmalloc-large by requested size"), std::string::npos);
  CacheHeader large;
  large.name = "kmalloc-large";
  s.caches.push_back(large);
  std::ostringstream with;
  write_table(with, s, 0);
  EXPECT_NE(with.str().find("exact: bpf_get_kmem_cache() names the cache of every object; kmalloc-large by requested "
                            "size (above the largest kmalloc cache)"),
            std::string::npos)
      << with.str();
}
