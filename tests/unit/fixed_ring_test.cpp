#include "fixed_ring.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <vector>

using namespace slableak;

namespace {

std::vector<int> contents(const FixedRing<int>& r) {
  std::vector<int> out;
  for (size_t i = 0; i < r.size(); ++i) out.push_back(r[i]);
  return out;
}

}  // namespace

TEST(FixedRing, EmptyAndCapacity) {
  FixedRing<int> r;
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.full());  // no room until reserved
  EXPECT_EQ(r.capacity(), 0u);
  r.reserve(3);
  EXPECT_EQ(r.capacity(), 3u);
  EXPECT_FALSE(r.full());
  EXPECT_TRUE(r.empty());
}

TEST(FixedRing, FifoOrderAcrossTheWrap) {
  FixedRing<int> r(3);
  r.push_back(1);
  r.push_back(2);
  r.push_back(3);
  EXPECT_TRUE(r.full());
  EXPECT_EQ(contents(r), (std::vector<int>{1, 2, 3}));
  r.pop_front();
  r.push_back(4);  // written at the start of the storage
  EXPECT_EQ(contents(r), (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(r.front(), 2);
  EXPECT_EQ(r.back(), 4);
}

TEST(FixedRing, PushWhenFullDropsTheOldest) {
  FixedRing<int> r(2);
  for (int i = 1; i <= 5; ++i) r.push_back(i);
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(contents(r), (std::vector<int>{4, 5}));
}

TEST(FixedRing, ReserveKeepsOrderWhenWrapped) {
  FixedRing<int> r(4);
  for (int i = 1; i <= 6; ++i) r.push_back(i);  // storage now 5 6 3 4, head at 3
  ASSERT_EQ(contents(r), (std::vector<int>{3, 4, 5, 6}));
  r.reserve(6);
  EXPECT_EQ(r.capacity(), 6u);
  EXPECT_EQ(contents(r), (std::vector<int>{3, 4, 5, 6}));
  r.push_back(7);
  r.push_back(8);
  EXPECT_EQ(contents(r), (std::vector<int>{3, 4, 5, 6, 7, 8}));
  r.pop_front();
  r.reserve(5);  // shrink to what is held
  EXPECT_EQ(contents(r), (std::vector<int>{4, 5, 6, 7, 8}));
  EXPECT_TRUE(r.full());
}

// Random pushes, pops and regrowth against std::deque as the model.
TEST(FixedRing, MatchesADequeModel) {
  std::mt19937 rng(7);
  FixedRing<int> r(1);
  std::deque<int> model;
  for (int step = 0; step < 20000; ++step) {
    const unsigned op = rng() % 8;
    if (op < 4) {
      if (r.full()) {
        if (r.capacity() == 0 || rng() % 2) {  // nothing to drop: it must grow
          r.reserve(r.capacity() + 1 + rng() % 3);
        } else {
          model.pop_front();  // the ring drops its oldest
        }
      }
      r.push_back(step);
      model.push_back(step);
    } else if (op < 7 && !model.empty()) {
      r.pop_front();
      model.pop_front();
    } else if (op == 7) {
      r.reserve(model.size() + rng() % 4);
    }
    ASSERT_EQ(r.size(), model.size());
    for (size_t i = 0; i < model.size(); ++i) ASSERT_EQ(r[i], model[i]) << "step " << step;
  }
}
