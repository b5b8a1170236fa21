#include "growth.h"

#include <gtest/gtest.h>

#include <string>

using namespace slableak;

TEST(Growth, LeastSquaresSlope) {
  EXPECT_DOUBLE_EQ(least_squares_slope({{0, 1}, {1, 4}, {2, 7}, {3, 10}}), 3.0);  // v = 3t + 1
  EXPECT_DOUBLE_EQ(least_squares_slope({{0, 0}, {1, 2}, {2, 2}}), 1.0);           // best fit, not endpoints
  EXPECT_DOUBLE_EQ(least_squares_slope({{5, 1}}), 0.0);
  EXPECT_DOUBLE_EQ(least_squares_slope({{5, 1}, {5, 9}}), 0.0);  // undefined: same t
}

TEST(Growth, WindowDropsOldSamples) {
  GrowthTracker g(10);
  g.add("k", 0, 100);  // outside the window once t=20 arrives
  g.add("k", 20, 0);
  g.add("k", 21, 2);
  g.add("k", 22, 4);
  EXPECT_DOUBLE_EQ(g.rate("k"), 2.0);
  EXPECT_DOUBLE_EQ(g.rate("missing"), 0.0);

  GrowthTracker edge(10);
  edge.add("k", 0, 0);
  edge.add("k", 10, 10);  // exactly one window apart: both count
  EXPECT_DOUBLE_EQ(edge.rate("k"), 1.0);
}

TEST(Growth, ExpireBoundsMemory) {
  GrowthTracker g(10);
  for (int i = 0; i < 100; ++i) g.add("old" + std::to_string(i), 0, i);
  g.add("fresh", 15, 1);
  EXPECT_EQ(g.size(), 101u);
  g.expire(20);
  EXPECT_EQ(g.size(), 1u);
  EXPECT_DOUBLE_EQ(g.rate("old1"), 0.0);
  g.expire(100);
  EXPECT_EQ(g.size(), 0u);
}
