// The triage verdict on recorded /proc/slabinfo (6.18 development VM).
#include "triage.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace slableak;

namespace {

std::vector<SlabCache> recorded() {
  std::ifstream f(std::string(TESTDATA_DIR) + "/slabinfo.txt");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_slabinfo(ss.str());
}

void grow(std::vector<SlabCache>& s, const std::string& name, uint64_t objects) {
  for (auto& c : s)
    if (c.name == name) c.active_objs += objects;
}

}  // namespace

TEST(Triage, PicksTheCacheThatExplainsTheGrowth) {
  TriageSample a{recorded(), 100 << 20}, b{recorded(), (100 << 20) + (5 << 20)};
  grow(b.slabinfo, "sock_inode_cache", 5000);  // 832 B: 4.0 MiB
  grow(b.slabinfo, "filp", 5000);              // 192 B: 0.9 MiB
  grow(b.slabinfo, "kmalloc-64", 100);         // noise
  const TriageVerdict v = triage(a, b, 10, {}, 3);
  ASSERT_TRUE(v.growing);
  EXPECT_EQ(v.sunreclaim_delta, 5 << 20);
  ASSERT_GE(v.picked.size(), 1u);
  EXPECT_EQ(v.picked[0].name, "sock_inode_cache");
  EXPECT_EQ(v.picked[0].objects, 5000);
  EXPECT_EQ(v.picked[0].bytes, 5000 * 832);
  EXPECT_NEAR(v.picked[0].share, 0.81, 0.01);
  // 81% is "most of it": the next one is not needed.
  EXPECT_EQ(v.picked.size(), 1u);
  const std::string text = describe_triage(v);
  EXPECT_NE(text.find("sock_inode_cache"), std::string::npos) << text;
  EXPECT_NE(text.find("81% of the growth"), std::string::npos) << text;
  EXPECT_NE(text.find("SUnreclaim +5.0 MiB"), std::string::npos) << text;
}

TEST(Triage, SeveralCachesWhenNoneExplainsMostAndReclaimableLeftOut) {
  TriageSample a{recorded(), -1}, b{recorded(), -1};
  grow(b.slabinfo, "sock_inode_cache", 1000);  // 0.8 MiB
  grow(b.slabinfo, "filp", 4000);              // 0.7 MiB
  grow(b.slabinfo, "dentry", 100000);          // reclaimable: not SUnreclaim
  const TriageVerdict v = triage(a, b, 10, {"dentry"}, 3);
  ASSERT_EQ(v.picked.size(), 2u);
  EXPECT_EQ(v.picked[0].name, "sock_inode_cache");
  EXPECT_EQ(v.picked[1].name, "filp");
  EXPECT_EQ(v.sunreclaim_delta, 0);
  const TriageVerdict one = triage(a, b, 10, {"dentry"}, 1);
  EXPECT_EQ(one.picked.size(), 1u);
}

TEST(Triage, QuietMachineSaysSoAndShowsTheLargestCaches) {
  TriageSample a{recorded(), 50 << 20}, b{recorded(), 50 << 20};
  grow(b.slabinfo, "kmalloc-64", 64);  // per-CPU slab noise, far below the floor
  const TriageVerdict v = triage(a, b, 10, {"dentry"}, 3);
  EXPECT_FALSE(v.growing);
  EXPECT_TRUE(v.picked.empty());
  ASSERT_EQ(v.largest.size(), 10u);
  for (size_t i = 1; i < v.largest.size(); ++i) EXPECT_GE(v.largest[i - 1].bytes, v.largest[i].bytes);
  for (const auto& c : v.largest) EXPECT_NE(c.name, "dentry");
  const std::string text = describe_triage(v);
  EXPECT_NE(text.find("no growth of unreclaimable slab"), std::string::npos) << text;
  EXPECT_NE(text.find(v.largest[0].name), std::string::npos) << text;
}

TEST(Triage, SUnreclaimFromMeminfo) {
  EXPECT_EQ(parse_sunreclaim("MemTotal:  100 kB\nSReclaimable:  20 kB\nSUnreclaim:   1234 kB\n"), 1234 * 1024);
  EXPECT_EQ(parse_sunreclaim("MemTotal:  100 kB\n"), -1);
}

TEST(Triage, LargeKmallocBytesAreSlabMinusTheCachesPages) {
  const auto caches = recorded();
  ASSERT_GT(slab_pages(caches), 0u);
  TriageSample s{caches, -1};
  EXPECT_EQ(large_kmalloc_bytes(s), -1);  // no Slab: figure
  s.slab_bytes = static_cast<int64_t>(slab_pages(caches) * 4096) + (3 << 20);
  EXPECT_EQ(large_kmalloc_bytes(s), 3 << 20);
  s.slabinfo.push_back({"no-slabdata", 1, 1, 64, 0, 0});  // a line without page counts
  EXPECT_EQ(large_kmalloc_bytes(s), -1);
  EXPECT_EQ(parse_meminfo_bytes("MemTotal:  100 kB\nSlab:   2048 kB\nSReclaimable: 1 kB\n", "Slab:"), 2048 * 1024);
}

TEST(Triage, AGrowthOfLargeKmallocsIsFoundWithoutItsName) {
  // 1000 held 20 KB kmallocs: 32 KiB each from the page allocator, seen
  // only in Slab: (no slabinfo line moves).
  TriageSample a{recorded(), 100 << 20}, b{recorded(), (100 << 20) + 1000 * 32768};
  a.slab_bytes = static_cast<int64_t>(slab_pages(a.slabinfo) * 4096) + (1 << 20);
  b.slab_bytes = a.slab_bytes + 1000 * 32768;
  grow(b.slabinfo, "kmalloc-64", 100);  // noise
  const TriageVerdict v = triage(a, b, 10, {}, 3);
  ASSERT_TRUE(v.growing);
  ASSERT_GE(v.picked.size(), 1u);
  EXPECT_EQ(v.picked[0].name, "kmalloc-large");
  EXPECT_EQ(v.picked[0].bytes, 1000 * 32768);
  const std::string text = describe_triage(v);
  EXPECT_NE(text.find("kmalloc-large"), std::string::npos) << text;
  // The vmstat counters' lag alone is no growth.
  b = a;
  b.slab_bytes += 128 << 10;
  EXPECT_FALSE(triage(a, b, 10, {}, 3).growing);
}
