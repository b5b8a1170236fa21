// Globs, random-kmalloc families and SLUB-merged names, on slabinfo and
// /sys/kernel/slab links recorded on the 6.18 development VM. None of our
// kernels enables CONFIG_RANDOM_KMALLOC_CACHES: slabinfo_random_kmalloc.txt
// is the recorded slabinfo plus the kmalloc-rnd-01-* .. -15-* lines such a
// kernel adds (docs/kernels.md says how to check on a kernel that has them).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "cache_selection.h"
#include "error.h"
#include "snapshot.h"

using namespace slableak;

namespace {

std::string data(const char* name) {
  std::ifstream f(std::string(TESTDATA_DIR) + "/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// slab_links.txt: "name target" per symlink in /sys/kernel/slab.
HostCaches host(const char* slabinfo = "slabinfo.txt") {
  HostCaches h{parse_slabinfo(data(slabinfo)), {}};
  std::istringstream in(data("slab_links.txt"));
  std::string name, target;
  while (in >> name >> target) h.links[name] = target;
  return h;
}

const NamingAbility k618{true, true, "6.18.0"};
const NamingAbility k612{false, true, "6.12.0"};

std::vector<std::string> names(const std::vector<CacheSelection>& sel) {
  std::vector<std::string> out;
  for (const auto& c : sel) out.push_back(c.name);
  return out;
}

std::string usage_message(const std::vector<std::string>& req, const HostCaches& h, const NamingAbility& can) {
  try {
    select_caches(req, h, can);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return "";
}

}  // namespace

TEST(CacheFamilies, MergedNameIsFollowedThroughItsCache) {
  // eventpoll_pwq is not in /proc/slabinfo: SLUB merged it into anon_vma_chain.
  const auto sel = select_caches({"eventpoll_pwq"}, host(), k612);
  ASSERT_EQ(sel.size(), 1u);
  EXPECT_EQ(sel[0].name, "anon_vma_chain");
  EXPECT_EQ(sel[0].requested, "eventpoll_pwq");
  EXPECT_EQ(sel[0].merged_as, "eventpoll_pwq");
  EXPECT_TRUE(sel[0].named);
  EXPECT_EQ(sel[0].obj_size, 64u);
  // The other names of that cache are stated: their objects show up too.
  EXPECT_NE(std::find(sel[0].shares_with.begin(), sel[0].shares_with.end(), "fs_cache"), sel[0].shares_with.end());
}

TEST(CacheFamilies, TwoNamesOfOneCacheAreOneFollowedCache) {
  const auto sel = select_caches({"anon_vma_chain", "eventpoll_pwq", "fs_cache"}, host(), k612);
  ASSERT_EQ(sel.size(), 1u);
  EXPECT_EQ(sel[0].requested, "anon_vma_chain, eventpoll_pwq, fs_cache");
  EXPECT_EQ(sel[0].merged_as, "eventpoll_pwq, fs_cache");
}

TEST(CacheFamilies, UnmergedCacheSharesNothing) {
  const auto sel = select_caches({"filp"}, host(), k612);
  ASSERT_EQ(sel.size(), 1u);
  EXPECT_TRUE(sel[0].shares_with.empty());
  EXPECT_TRUE(sel[0].merged_as.empty());
}

TEST(CacheFamilies, GlobExpandsToKernelCaches) {
  const auto sel = select_caches({"kmalloc-*2k"}, host(), k618);
  // In name order, as the glob matched them.
  EXPECT_EQ(names(sel), (std::vector<std::string>{"kmalloc-2k", "kmalloc-cg-2k", "kmalloc-rcl-2k"}));
  for (const auto& c : sel) {
    EXPECT_EQ(c.family, "kmalloc-*2k");
    EXPECT_EQ(c.requested, "kmalloc-*2k");
    EXPECT_EQ(c.req_hi, 2048u);
  }
}

TEST(CacheFamilies, GlobOverMergedNamesSelectsEachCacheOnce) {
  // eventpoll_epi is in slabinfo; eventpoll_pwq is merged into anon_vma_chain.
  const auto sel = select_caches({"eventpoll_*"}, host(), k612);
  EXPECT_EQ(names(sel), (std::vector<std::string>{"eventpoll_epi", "anon_vma_chain"}));
  EXPECT_TRUE(sel[0].merged_as.empty());
  EXPECT_EQ(sel[1].merged_as, "eventpoll_pwq");
}

TEST(CacheFamilies, GlobMatchingNothingIsOneLineUsage) {
  const auto msg = usage_message({"kmalloc-rnd-*"}, host(), k618);
  EXPECT_NE(msg.find("kmalloc-rnd-*"), std::string::npos) << msg;
  EXPECT_NE(msg.find("matches no cache"), std::string::npos) << msg;
}

TEST(CacheFamilies, UnknownNameSuggestsMergedNamesToo) {
  const auto msg = usage_message({"eventpoll_pqw"}, host(), k612);
  EXPECT_NE(msg.find("eventpoll_pwq"), std::string::npos) << msg;
}

TEST(CacheFamilies, NamedCacheRefusedBefore60) {
  const NamingAbility k510{false, false, "5.10.0-32-cloud-amd64"};
  const auto msg = usage_message({"eventpoll_pwq"}, host(), k510);
  EXPECT_NE(msg.find("merged into anon_vma_chain"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Linux 6.0"), std::string::npos) << msg;
  // kmalloc caches stay available there.
  EXPECT_EQ(select_caches({"kmalloc-2k"}, host(), k510).size(), 1u);
}

TEST(CacheFamilies, PlainKmallocNameIsTheWholeRandomFamily) {
  const auto h = host("slabinfo_random_kmalloc.txt");
  const auto sel = select_caches({"kmalloc-2k"}, h, k618);
  ASSERT_EQ(sel.size(), 16u);
  EXPECT_EQ(sel[0].name, "kmalloc-2k");
  for (int i = 1; i <= 15; ++i) {
    char want[32];
    std::snprintf(want, sizeof want, "kmalloc-rnd-%02d-2k", i);
    EXPECT_NE(std::find_if(sel.begin(), sel.end(), [&](const CacheSelection& c) { return c.name == want; }),
              sel.end())
        << want;
  }
  for (const auto& c : sel) {
    EXPECT_EQ(c.family, "kmalloc-2k");
    EXPECT_EQ(c.req_lo, 1024u);
    EXPECT_EQ(c.req_hi, 2048u);
    EXPECT_EQ(c.type, KmallocType::normal);
  }
  // Accounted and reclaimable kmallocs are never randomised.
  EXPECT_EQ(select_caches({"kmalloc-cg-2k"}, h, k618).size(), 1u);
  // Without random caches the name is just the cache.
  EXPECT_EQ(select_caches({"kmalloc-2k"}, host(), k618)[0].family, "");
}

TEST(CacheFamilies, RandomGlobAndItsLimits) {
  const auto h = host("slabinfo_random_kmalloc.txt");
  EXPECT_EQ(select_caches({"kmalloc-rnd-*-2k"}, h, k618).size(), 15u);
  // 13 sizes x 15 copies: more than the 64 followed at once.
  const auto msg = usage_message({"kmalloc-rnd-*"}, h, k618);
  EXPECT_NE(msg.find("195 caches"), std::string::npos) << msg;
  // The random copies can only be told apart by an exact method: the
  // refusal (of the guess) points at the method, not at another cache.
  const auto refused = usage_message({"kmalloc-2k"}, h, k612);
  EXPECT_NE(refused.find("--method"), std::string::npos) << refused;
}

TEST(CacheFamilies, FamilyTotalsSumTheMembers) {
  Snapshot s;
  CacheHeader a, b, c;
  a.name = "kmalloc-2k", a.family = "kmalloc-2k", a.attributed_objects = 10, a.attributed_bytes = 20480;
  a.in_slabinfo = true, a.slab_active_start = 100, a.slab_active_now = 112;
  b.name = "kmalloc-rnd-01-2k", b.family = "kmalloc-2k", b.attributed_objects = 5, b.attributed_bytes = 10240;
  b.in_slabinfo = true, b.slab_active_start = 50, b.slab_active_now = 55;
  c.name = "filp";
  s.caches = {a, b, c};
  const auto f = family_totals(s);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].name, "kmalloc-2k");
  EXPECT_EQ(f[0].members, (std::vector<std::string>{"kmalloc-2k", "kmalloc-rnd-01-2k"}));
  EXPECT_EQ(f[0].attributed_objects, 15);
  EXPECT_EQ(f[0].attributed_bytes, 30720);
  EXPECT_EQ(f[0].slab_delta, 17);
}

TEST(CacheFamilies, NameHashMatchesTheKernelSide) {
  // FNV-1a 64 reference values; bpf/cache_verdict.h computes the same.
  EXPECT_EQ(slk_name_hash(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(slk_name_hash("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_NE(slk_name_hash("kmalloc-2k"), slk_name_hash("kmalloc-1k"));
}
