#include "cache_naming.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace slableak;

TEST(CacheNaming, SizeClassesIncludeOddSizes) {
  const std::vector<uint32_t> expected = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192};
  EXPECT_EQ(kmalloc_size_classes(), expected);
}

TEST(CacheNaming, SizeClassFor) {
  EXPECT_EQ(size_class_for(1), 8u);
  EXPECT_EQ(size_class_for(8), 8u);
  EXPECT_EQ(size_class_for(9), 16u);
  EXPECT_EQ(size_class_for(64), 64u);
  EXPECT_EQ(size_class_for(65), 96u);
  EXPECT_EQ(size_class_for(96), 96u);
  EXPECT_EQ(size_class_for(97), 128u);
  EXPECT_EQ(size_class_for(129), 192u);
  EXPECT_EQ(size_class_for(192), 192u);
  EXPECT_EQ(size_class_for(193), 256u);
  EXPECT_EQ(size_class_for(1025), 2048u);
  EXPECT_EQ(size_class_for(8192), 8192u);
  EXPECT_EQ(size_class_for(8193), std::nullopt);
}

TEST(CacheNaming, SizeClassLowerBound) {
  EXPECT_EQ(size_class_lower_bound(8), 0u);
  EXPECT_EQ(size_class_lower_bound(96), 64u);
  EXPECT_EQ(size_class_lower_bound(128), 96u);
  EXPECT_EQ(size_class_lower_bound(192), 128u);
  EXPECT_EQ(size_class_lower_bound(256), 192u);
  EXPECT_EQ(size_class_lower_bound(2048), 1024u);
}

// On a kernel without the small classes (arm64 before 6.5: kmalloc-128 is
// the smallest, no kmalloc-96 or -192), a class takes every request down to
// the next class that exists; without kmalloc-N names the full list holds.
TEST(CacheNaming, SizeClassLowerBoundFollowsTheHostsClasses) {
  const std::vector<std::string> arm64_61 = {"kmalloc-128",     "kmalloc-256", "kmalloc-512", "kmalloc-1k",
                                             "kmalloc-2k",      "kmalloc-4k",  "kmalloc-8k",  "kmalloc-cg-128",
                                             "dma-kmalloc-128", "msg_msg-2k"};
  EXPECT_EQ(size_class_lower_bound(128, arm64_61), 0u);
  EXPECT_EQ(size_class_lower_bound(256, arm64_61), 128u);
  EXPECT_EQ(size_class_lower_bound(2048, arm64_61), 1024u);
  EXPECT_EQ(size_class_lower_bound(96, {"dentry"}), 64u);
  const std::vector<std::string> all = {"kmalloc-8",  "kmalloc-16",  "kmalloc-32",  "kmalloc-64",
                                        "kmalloc-96", "kmalloc-128", "kmalloc-192", "kmalloc-256"};
  for (uint32_t c : {8u, 96u, 128u, 192u, 256u}) EXPECT_EQ(size_class_lower_bound(c, all), size_class_lower_bound(c));
}

TEST(CacheNaming, CacheNames) {
  EXPECT_EQ(kmalloc_cache_name(KmallocType::cgroup, 2048), "kmalloc-cg-2k");
  EXPECT_EQ(kmalloc_cache_name(KmallocType::dma, 8192), "dma-kmalloc-8k");
  EXPECT_EQ(kmalloc_cache_name(KmallocType::normal, 192), "kmalloc-192");
  EXPECT_EQ(kmalloc_cache_name(KmallocType::reclaim, 1024), "kmalloc-rcl-1k");
  EXPECT_EQ(size_suffix(96), "96");
  EXPECT_EQ(size_suffix(4096), "4k");
}

TEST(CacheNaming, ClassifyKmallocAndRandom) {
  const std::vector<std::string> none;
  auto c = classify_cache_name("kmalloc-2k", none);
  EXPECT_EQ(c.kind, CacheName::Kind::kmalloc);
  EXPECT_EQ(c.size_class, 2048u);
  EXPECT_EQ(c.type, KmallocType::normal);

  c = classify_cache_name("kmalloc-cg-192", none);
  EXPECT_EQ(c.kind, CacheName::Kind::kmalloc);
  EXPECT_EQ(c.size_class, 192u);
  EXPECT_EQ(c.type, KmallocType::cgroup);

  c = classify_cache_name("dma-kmalloc-8k", none);
  EXPECT_EQ(c.kind, CacheName::Kind::kmalloc);
  EXPECT_EQ(c.size_class, 8192u);
  EXPECT_EQ(c.type, KmallocType::dma);

  c = classify_cache_name("kmalloc-rcl-96", none);
  EXPECT_EQ(c.type, KmallocType::reclaim);
  EXPECT_EQ(c.size_class, 96u);

  c = classify_cache_name("kmalloc-rnd-03-1k", none);
  EXPECT_EQ(c.kind, CacheName::Kind::random);
  EXPECT_EQ(c.size_class, 1024u);

  EXPECT_EQ(classify_cache_name("kmalloc-3k", none).kind, CacheName::Kind::other);
  EXPECT_EQ(classify_cache_name("kmalloc-16k", none).kind, CacheName::Kind::other);
  EXPECT_EQ(classify_cache_name("dentry", none).kind, CacheName::Kind::other);
  EXPECT_EQ(classify_cache_name("dentry", none).size_class, 0u);
}

TEST(CacheNaming, BucketNeedsFamilyOfEight) {
  std::vector<std::string> known = {"biovec-16", "biovec-64", "biovec-128", "biovec-max", "dentry"};
  const char* sizes[] = {"8", "16", "32", "64", "96", "128", "192", "256"};
  for (int i = 0; i < 7; ++i) known.push_back(std::string("msg_msg-") + sizes[i]);
  // 7 members (msg_msg-8 .. msg_msg-192): not yet a family.
  EXPECT_EQ(classify_cache_name("msg_msg-128", known).kind, CacheName::Kind::other);
  known.push_back("msg_msg-256");
  const auto c = classify_cache_name("msg_msg-128", known);
  EXPECT_EQ(c.kind, CacheName::Kind::bucket);
  EXPECT_EQ(c.size_class, 128u);
  // A lone size-suffixed cache is not a bucket.
  EXPECT_EQ(classify_cache_name("biovec-128", known).kind, CacheName::Kind::other);
}

TEST(CacheNaming, SimilarNames) {
  const std::vector<std::string> cands = {"dentry", "kmalloc-1k", "kmalloc-2k", "kmalloc-cg-2k", "inode_cache",
                                          "task_struct"};
  const auto s = similar_names("kmaloc-2k", cands);
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.front(), "kmalloc-2k");
  // Substring hint: "cg-2k" is inside kmalloc-cg-2k.
  const auto sub = similar_names("cg-2k", cands);
  ASSERT_FALSE(sub.empty());
  EXPECT_EQ(sub.front(), "kmalloc-cg-2k");
  EXPECT_LE(similar_names("kmalloc-4k", cands, 2).size(), 2u);
  EXPECT_TRUE(similar_names("zzzzzzzzzzzzzzzz", cands).empty());
}
