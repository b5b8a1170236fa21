#include "cache_selection.h"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "error.h"

using namespace slableak;

namespace {

std::vector<SlabCache> slabinfo_file(const char* name) {
  std::ifstream f(std::string(TESTDATA_DIR) + "/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_slabinfo(ss.str());
}

// Recorded on the 6.18 development VM.
std::vector<SlabCache> host_slabinfo() { return slabinfo_file("slabinfo.txt"); }
// The same with the 15 random copies of each kmalloc size that
// CONFIG_RANDOM_KMALLOC_CACHES adds (none of our kernels enables it).
std::vector<SlabCache> random_slabinfo() { return slabinfo_file("slabinfo_random_kmalloc.txt"); }

std::optional<Error> error_of(const std::vector<std::string>& req, bool exact) {
  static const auto slab = random_slabinfo();
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

TEST(CacheSelection, NamedCacheNeedsAKernelThatNamesIt) {
  // 6.0+ passes the cache with kmem_cache_alloc: followed.
  const auto sel = select_caches({"dentry"}, host_slabinfo(), true);
  ASSERT_EQ(sel.size(), 1u);
  EXPECT_TRUE(sel[0].named);
  EXPECT_EQ(sel[0].req_hi, 0u);  // never matched by the kmalloc programs
  EXPECT_GT(sel[0].obj_size, 0u);
  // Older kernels: one line naming the version that can, exit 2.
  HostCaches host{host_slabinfo(), {}};
  try {
    select_caches({"dentry"}, host, NamingAbility{false, false, "5.10.0-32-cloud-amd64"});
    FAIL() << "a named cache was accepted on a kernel that cannot name it";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    const std::string msg = e.what();
    EXPECT_NE(msg.find("6.0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("5.10.0-32-cloud-amd64"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(CacheSelection, BucketAndRandomNeedExactMethod) {
  for (const char* name : {"msg_msg-2k", "kmalloc-rnd-01-2k"}) {
    SCOPED_TRACE(name);
    const auto e = error_of({name}, false);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->code(), Exit::usage);
    EXPECT_NE(std::string(e->what()).find("kmalloc-cg-2k"), std::string::npos) << e->what();
    EXPECT_NE(std::string(e->what()).find("--method"), std::string::npos) << e->what();
  }
  const auto sel = select_caches({"msg_msg-2k"}, random_slabinfo(), true);
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

  // 64 kernel caches at most, counted after globs expand.
  std::vector<std::string> many;
  for (const auto& c : host_slabinfo()) many.push_back(c.name);
  many.resize(64);
  EXPECT_EQ(select_caches(many, host_slabinfo(), true).size(), 64u);
  e = error_of({"*"}, true);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code(), Exit::usage);
  EXPECT_NE(std::string(e->what()).find("at most 64"), std::string::npos) << e->what();
}

TEST(CacheSelection, KmallocLargeIsEveryRequestAboveTheLargestKmallocCache) {
  for (const bool exact : {true, false}) {
    const auto sel = select_caches({"kmalloc-2k", "kmalloc-large"}, host_slabinfo(), exact);
    ASSERT_EQ(sel.size(), 2u);
    const CacheSelection& l = sel[1];
    EXPECT_EQ(l.name, "kmalloc-large");
    EXPECT_FALSE(l.named);
    EXPECT_EQ(l.type, KmallocType::large);
    EXPECT_EQ(l.req_lo, 8192u);  // the recorded host's largest is kmalloc-8k
    EXPECT_EQ(l.req_hi, UINT32_MAX);
    EXPECT_EQ(l.obj_size, 0u);  // bytes come from each event: the pages reserved
  }
  // A host whose largest kmalloc cache is 4 KiB sends 4097 bytes and up there.
  std::vector<SlabCache> small;
  for (const auto& c : host_slabinfo())
    if (c.name != "kmalloc-8k") small.push_back(c);
  EXPECT_EQ(select_caches({"kmalloc-large"}, small, true)[0].req_lo, 4096u);
  // Not a glob's match: "kmalloc-*" means the slab caches.
  for (const auto& c : select_caches({"kmalloc-*"}, host_slabinfo(), true)) EXPECT_NE(c.name, "kmalloc-large");
  // A typo is pointed at it.
  try {
    select_caches({"kmalloc-larg"}, host_slabinfo(), true);
    ADD_FAILURE() << "kmalloc-larg accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kmalloc-large"), std::string::npos) << e.what();
  }
}
