#include "stack_learning.h"

#include <gtest/gtest.h>

namespace slableak {
namespace {

// A window as the kernel would see it: return addresses of the callers at
// increasing offsets, with other words (locals, saved registers) between.
TEST(StackLearning, FindsCallersInOrderAboveTheFrame) {
  const uint64_t site = 0xffffffff81100010, g = 0xffffffff81200020, h = 0xffffffff81300030,
                 i = 0xffffffff81400040;
  const std::vector<uint64_t> ips = {0xffffffff81000001, 0xffffffff81000002, site, g, h, i, 0};
  std::vector<uint64_t> raw(64, 0x1234);
  raw[3] = h;  // a stale copy of h below g's slot must not be taken
  raw[10] = g;
  raw[17] = h;
  raw[30] = i;
  const slk_site s = learn_site_offsets(site, ips, raw.data(), raw.size());
  ASSERT_EQ(s.n, 3u);
  EXPECT_EQ(s.off[0], 10);
  EXPECT_EQ(s.off[1], 17);
  EXPECT_EQ(s.off[2], 30);
  EXPECT_EQ(s.span, 31u);
}

TEST(StackLearning, StopsAtTheFirstCallerNotInTheWindow) {
  const uint64_t site = 5, g = 6, h = 7, i = 8;
  const std::vector<uint64_t> ips = {site, g, h, i};
  std::vector<uint64_t> raw(16, 0);
  raw[2] = g;
  raw[9] = i;  // h is missing: i's offset would be a guess, so it is not used
  const slk_site s = learn_site_offsets(site, ips, raw.data(), raw.size());
  EXPECT_EQ(s.n, 1u);
  EXPECT_EQ(s.off[0], 2);
  EXPECT_EQ(s.span, 3u);
}

TEST(StackLearning, CallSiteNotInStackGivesNoOffsets) {
  const std::vector<uint64_t> ips = {1, 2, 3};
  std::vector<uint64_t> raw(8, 2);
  EXPECT_EQ(learn_site_offsets(99, ips, raw.data(), raw.size()).n, 0u);
}

TEST(StackLearning, AtMostEightWordsAndOnlyWithinNwords) {
  std::vector<uint64_t> ips = {100};
  std::vector<uint64_t> raw(64, 0);
  for (uint64_t k = 1; k <= 12; ++k) {
    ips.push_back(100 + k);
    raw[k * 4] = 100 + k;
  }
  EXPECT_EQ(learn_site_offsets(100, ips, raw.data(), raw.size()).n, SLK_FP_WORDS);
  // Only the first 10 words were read: callers at 4 and 8 are found.
  EXPECT_EQ(learn_site_offsets(100, ips, raw.data(), 10).n, 2u);
}

}  // namespace
}  // namespace slableak

namespace slableak {
namespace {

TEST(StackLearning, TwoSamplesKeepTheOffsetsTheyAgreeOn) {
  slk_site a{}, b{};
  a.n = 4;
  b.n = 3;
  const uint16_t oa[] = {10, 17, 30, 41}, ob[] = {10, 17, 33};
  for (int i = 0; i < 4; ++i) a.off[i] = oa[i];
  for (int i = 0; i < 3; ++i) b.off[i] = ob[i];
  const slk_site s = agreed_site(a, b);
  EXPECT_EQ(s.n, 2u);  // the third slot moved between samples: a stale copy
  EXPECT_EQ(s.off[0], 10);
  EXPECT_EQ(s.off[1], 17);
  EXPECT_EQ(s.span, 18u);
  EXPECT_EQ(agreed_site(a, a).n, 4u);
  slk_site none{};
  EXPECT_EQ(agreed_site(a, none).n, 0u);
}

}  // namespace
}  // namespace slableak
