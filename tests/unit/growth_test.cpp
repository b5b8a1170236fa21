#include "growth.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>

using namespace slableak;

namespace {

GrowthKey key(uint64_t stack, uint32_t cache = 0) { return {cache, stack}; }

// The tracker as it was before the rings (one std::deque per series, push
// then trim, slope over a copy): rates must stay bit-identical to it.
class ReferenceTracker {
 public:
  explicit ReferenceTracker(double window_s) : window_s_(window_s) {}
  void add(uint64_t k, double t, double v) {
    auto& s = series_[k];
    s.push_back({t, v});
    while (!s.empty() && s.front().first < t - window_s_) s.pop_front();
  }
  double rate(uint64_t k) const {
    auto it = series_.find(k);
    if (it == series_.end()) return 0;
    const auto& pts = it->second;
    if (pts.size() < 2) return 0;
    double st = 0, sv = 0;
    for (auto& [t, v] : pts) {
      st += t;
      sv += v;
    }
    const double n = static_cast<double>(pts.size());
    const double mt = st / n, mv = sv / n;
    double num = 0, den = 0;
    for (auto& [t, v] : pts) {
      num += (t - mt) * (v - mv);
      den += (t - mt) * (t - mt);
    }
    return den > 0 ? num / den : 0;
  }
  void expire(double now) {
    for (auto it = series_.begin(); it != series_.end();) {
      if (it->second.empty() || it->second.back().first < now - window_s_)
        it = series_.erase(it);
      else
        ++it;
    }
  }
  size_t size() const { return series_.size(); }

 private:
  double window_s_;
  std::map<uint64_t, std::deque<std::pair<double, double>>> series_;
};

}  // namespace

TEST(Growth, LeastSquaresSlope) {
  EXPECT_DOUBLE_EQ(least_squares_slope({{0, 1}, {1, 4}, {2, 7}, {3, 10}}), 3.0);  // v = 3t + 1
  EXPECT_DOUBLE_EQ(least_squares_slope({{0, 0}, {1, 2}, {2, 2}}), 1.0);           // best fit, not endpoints
  EXPECT_DOUBLE_EQ(least_squares_slope({{5, 1}}), 0.0);
  EXPECT_DOUBLE_EQ(least_squares_slope({{5, 1}, {5, 9}}), 0.0);  // undefined: same t
}

TEST(Growth, WindowDropsOldSamples) {
  GrowthTracker g(10);
  g.add(key(1), 0, 100, 1000);  // outside the window once t=20 arrives
  g.add(key(1), 20, 0, 0);
  g.add(key(1), 21, 2, 20);
  g.add(key(1), 22, 4, 40);
  EXPECT_DOUBLE_EQ(g.rate(key(1)).objects_per_s, 2.0);
  EXPECT_DOUBLE_EQ(g.rate(key(1)).bytes_per_s, 20.0);
  EXPECT_DOUBLE_EQ(g.rate(key(2)).objects_per_s, 0.0);
  EXPECT_DOUBLE_EQ(g.rate(key(1, 1)).objects_per_s, 0.0);  // same stack, other cache: another series

  GrowthTracker edge(10);
  edge.add(key(1), 0, 0, 0);
  edge.add(key(1), 10, 10, 5);  // exactly one window apart: both count
  EXPECT_DOUBLE_EQ(edge.rate(key(1)).objects_per_s, 1.0);
  EXPECT_DOUBLE_EQ(edge.rate(key(1)).bytes_per_s, 0.5);
}

TEST(Growth, ExpireBoundsMemory) {
  GrowthTracker g(10);
  for (uint64_t i = 0; i < 100; ++i) g.add(key(1000 + i), 0, double(i), double(i));
  g.add(key(7), 15, 1, 1);
  EXPECT_EQ(g.size(), 101u);
  EXPECT_TRUE(g.has(key(1001)));
  g.expire(20);
  EXPECT_EQ(g.size(), 1u);
  EXPECT_FALSE(g.has(key(1001)));
  EXPECT_DOUBLE_EQ(g.rate(key(1001)).objects_per_s, 0.0);
  g.expire(100);
  EXPECT_EQ(g.size(), 0u);
}

// At a steady interval the ring is sized for the whole window at the second
// sample (300 s / 15 s + 1 = 21) and never reallocated after that.
TEST(Growth, RingSizedOnceForASteadyInterval) {
  GrowthTracker g(300);
  g.add(key(1), 1000, 1, 1);
  EXPECT_EQ(g.capacity(key(1)), 1u);
  g.add(key(1), 1015, 2, 2);
  EXPECT_EQ(g.capacity(key(1)), 21u);
  for (int i = 2; i < 100; ++i) g.add(key(1), 1000 + 15.0 * i, i + 1, i + 1);
  EXPECT_EQ(g.capacity(key(1)), 21u);
  EXPECT_DOUBLE_EQ(g.rate(key(1)).objects_per_s, 1.0 / 15);
}

// When the samples come closer than the first spacing predicted, the ring
// grows instead of dropping a sample that is still inside the window.
TEST(Growth, RingGrowsWhenTheIntervalShrinks) {
  GrowthTracker g(10);
  ReferenceTracker ref(10);
  double t = 0;
  for (int i = 0; i < 5; ++i, t += 5) {
    g.add(key(1), t, i, 0);
    ref.add(1, t, i);
  }
  EXPECT_EQ(g.capacity(key(1)), 3u);  // 10 s / 5 s + 1
  for (int i = 0; i < 40; ++i, t += 0.5) {
    g.add(key(1), t, i * i, 0);
    ref.add(1, t, i * i);
  }
  EXPECT_GE(g.capacity(key(1)), 21u);  // 10 s / 0.5 s + 1
  EXPECT_EQ(g.rate(key(1)).objects_per_s, ref.rate(1));
}

// Many series with irregular times (the same time twice, jitter, gaps,
// series that appear late or stop): the same rates as the deque tracker,
// bit for bit, so the Prometheus text does not change.
TEST(Growth, MatchesTheDequeTrackerExactly) {
  std::mt19937_64 rng(42);
  for (double window : {10.0, 60.0, 300.0}) {
    GrowthTracker g(window);
    ReferenceTracker ro(window), rb(window);
    double t = 1e5 + 0.123456789;
    for (int step = 0; step < 400; ++step) {
      const int kind = static_cast<int>(rng() % 10);
      t += kind == 0 ? 0.0 : kind == 1 ? window * 1.5 : 0.001 + static_cast<double>(rng() % 20000) / 1000.0;
      for (uint64_t s = 0; s < 20; ++s) {
        if (rng() % 4 == 0) continue;  // this series skips this time
        const double o = static_cast<double>(rng() % 100000), b = o * 2048 + static_cast<double>(rng() % 7);
        g.add(key(s), t, o, b);
        ro.add(s, t, o);
        rb.add(s, t, b);
        ASSERT_EQ(g.rate(key(s)).objects_per_s, ro.rate(s)) << "window " << window << " step " << step;
        ASSERT_EQ(g.rate(key(s)).bytes_per_s, rb.rate(s)) << "window " << window << " step " << step;
      }
      if (rng() % 3 == 0) {
        g.expire(t);
        ro.expire(t);
        rb.expire(t);
        ASSERT_EQ(g.size(), ro.size());
      }
    }
  }
}
