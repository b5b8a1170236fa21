#include "cache_selection.h"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "error.h"

using namespace slableak;

namespace {

std::vector<SlabCache> host_slabinfo() {
  std::ifstream f(std::string(TESTDATA_DIR) + "/slabinfo.txt");
  std::stringstream ss;
  ss << f.rdbuf();
  auto caches = parse_slabinfo(ss.str());
  // CONFIG_RANDOM_KMALLOC_CACHES is off on the fixture host; add one.
  caches.push_back(SlabCache{"kmalloc-rnd-01-2k", 10, 16, 2048});
  return caches;
}

std::optional<Error> error_of(const std::vector<std::string>& req, bool exact) {
  static const auto slab = host_slabinfo();
  try {
    select_caches(req, slab, exact);
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

}  // namespace

TEST(CacheSelection, KmallocCachesMapToSizeRanges) {
  const auto slab = host_slabinfo();
  const auto sel = select_caches({"kmalloc-2k", "kmalloc-cg-192", "kmalloc-96", "dma-kmalloc-8"}, slab, false);
  ASSERT_EQ(sel.size(), 4u);
  EXPECT_EQ(sel[0].name, "kmalloc-2k");
  EXPECT_EQ(sel[0].req_lo, 1024u);
  EXPECT_EQ(sel[0].req_hi, 2048u);
  EXPECT_EQ(sel[0].type, KmallocType::normal);
  EXPECT_EQ(sel[1].req_lo, 128u);
  EXPECT_EQ(sel[1].req_hi, 192u);
  EXPECT_EQ(sel[1].type, KmallocType::cgroup);
  EXPECT_EQ(sel[2].req_lo, 64u);
  EXPECT_EQ(sel[2].req_hi, 96u);
  EXPECT_EQ(sel[3].req_lo, 0u);
  EXPECT_EQ(sel[3].type, KmallocType::dma);
}

TEST(CacheSelection, UnknownNameListsSimilarNames) {
  const auto e = error_of({"kmalloc-3k"}, true);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code(), Exit::usage);
  const std::string msg = e->what();
  EXPECT_NE(msg.find("kmalloc-3k"), std::string::npos) << msg;
  EXPECT_NE(msg.find("kmalloc-2k"), std::string::npos) << msg;
  EXPECT_NE(msg.find("kmalloc-4k"), std::string::npos) << msg;
}

TEST(CacheSelection, NonKmallocCacheRefused) {
  for (const char* name : {"dentry", "biovec-128"}) {
    SCOPED_TRACE(name);
    const auto e = error_of({name}, true);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->code(), Exit::usage);
  }
}

TEST(CacheSelection, BucketAndRandomNeedExactMethod) {
  for (const char* name : {"msg_msg-2k", "kmalloc-rnd-01-2k"}) {
    SCOPED_TRACE(name);
    const auto e = error_of({name}, false);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->code(), Exit::environment);
    EXPECT_NE(std::string(e->what()).find("kmalloc-2k"), std::string::npos) << e->what();
  }
  const auto sel = select_caches({"msg_msg-2k"}, host_slabinfo(), true);
  ASSERT_EQ(sel.size(), 1u);
  EXPECT_EQ(sel[0].req_lo, 1024u);
  EXPECT_EQ(sel[0].req_hi, 2048u);
}

TEST(CacheSelection, DuplicatesEmptyAndTooMany) {
  auto e = error_of({"kmalloc-2k", "kmalloc-1k", "kmalloc-2k"}, true);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code(), Exit::usage);

  e = error_of({}, true);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code(), Exit::usage);

  const std::vector<std::string> eight = {"kmalloc-8",  "kmalloc-16",  "kmalloc-32", "kmalloc-64",
                                          "kmalloc-96", "kmalloc-128", "kmalloc-192", "kmalloc-256"};
  EXPECT_EQ(select_caches(eight, host_slabinfo(), false).size(), 8u);
  auto nine = eight;
  nine.push_back("kmalloc-512");
  e = error_of(nine, true);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code(), Exit::usage);
}
