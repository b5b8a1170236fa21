#include "slabinfo.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

using namespace slableak;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST(Slabinfo, ParsesHeaderAndSkipsMalformedLines) {
  const std::string text =
      "slabinfo - version: 2.1\n"
      "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> "
      "<batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n"
      "kmalloc-2k           320    384   2048   16    8 : tunables    0    0    0 : slabdata     24     24      0\n"
      "garbage\n"
      "kmalloc-1k   abc  752 1024 16 4 : tunables 0 0 0 : slabdata 47 47 0\n"
      "short 1 2\n"
      "\n"
      "kmalloc-cg-192\t230\t378\t192\t21\t1 : tunables 0 0 0 : slabdata 18 18 0\n"
      "kmalloc-64   -5   10   64   64    1 : tunables    0    0    0 : slabdata      1      1      0\n"
      "kmalloc-8 1024 1536 8";  // last line without newline
  const auto caches = parse_slabinfo(text);
  ASSERT_EQ(caches.size(), 3u);
  EXPECT_EQ(caches[0].name, "kmalloc-2k");
  EXPECT_EQ(caches[0].active_objs, 320u);
  EXPECT_EQ(caches[0].num_objs, 384u);
  EXPECT_EQ(caches[0].objsize, 2048u);
  EXPECT_EQ(caches[0].pages_per_slab, 8u);
  EXPECT_EQ(caches[0].num_slabs, 24u);
  EXPECT_EQ(caches[1].name, "kmalloc-cg-192");
  EXPECT_EQ(caches[1].active_objs, 230u);
  EXPECT_EQ(caches[1].objsize, 192u);
  EXPECT_EQ(caches[2].name, "kmalloc-8");
  EXPECT_EQ(caches[2].num_objs, 1536u);
  EXPECT_EQ(caches[2].pages_per_slab, 0u);  // no slabdata on that line: no page count
  EXPECT_EQ(slab_pages(caches), 24u * 8 + 18);
  EXPECT_EQ(find_cache(caches, "kmalloc-1k"), nullptr);
  EXPECT_EQ(find_cache(caches, "slabinfo"), nullptr);
}

// tests/data/slabinfo.txt is /proc/slabinfo of a 6.18 x86-64 host
// (CONFIG_SLAB_BUCKETS: it has the msg_msg-* bucket family).
TEST(Slabinfo, RealFixture) {
  const std::string text = read_file(std::string(TESTDATA_DIR) + "/slabinfo.txt");
  ASSERT_FALSE(text.empty());
  const auto caches = parse_slabinfo(text);
  EXPECT_EQ(caches.size(), 235u);  // 237 lines minus the two header lines
  const SlabCache* c = find_cache(caches, "kmalloc-2k");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->active_objs, 320u);
  EXPECT_EQ(c->num_objs, 384u);
  EXPECT_EQ(c->objsize, 2048u);
  c = find_cache(caches, "msg_msg-2k");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->active_objs, 48u);
  EXPECT_EQ(c->num_objs, 128u);
  c = find_cache(caches, "dentry");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->objsize, 192u);
  const auto names = cache_names(caches);
  ASSERT_EQ(names.size(), caches.size());
  EXPECT_EQ(names.front(), "btrfs_delayed_node");
}
