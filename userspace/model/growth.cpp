#include "growth.h"

#include <algorithm>
#include <cmath>

namespace slableak {
namespace {

// One formula for every caller, so rates do not depend on how the points
// are stored: two passes (means first) in oldest-to-newest order.
template <typename PointAt>
double slope(size_t n, PointAt point) {
  if (n < 2) return 0;
  double st = 0, sv = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto [t, v] = point(i);
    st += t;
    sv += v;
  }
  const double nn = static_cast<double>(n);
  const double mt = st / nn, mv = sv / nn;
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto [t, v] = point(i);
    num += (t - mt) * (v - mv);
    den += (t - mt) * (t - mt);
  }
  return den > 0 ? num / den : 0;
}

// Beyond this many samples per window a series grows its ring by halves
// instead of by the prediction from its sample spacing.
constexpr double kMaxPredicted = 1 << 16;

}  // namespace

double least_squares_slope(const std::vector<std::pair<double, double>>& pts) {
  return slope(pts.size(), [&](size_t i) { return pts[i]; });
}

size_t GrowthTracker::grown_capacity(const FixedRing<Sample>& ring, double t) const {
  // A series sampled at a steady interval holds window/interval + 1 samples:
  // sized for that at its second sample, its ring is reallocated once, not
  // at every refresh of the first window.
  size_t want = ring.size() + 1;
  const double spacing = ring.empty() ? 0 : t - ring.back().t;
  const double fit = spacing > 0 ? std::floor(window_s_ / spacing) + 1 : 0;
  if (fit > 0 && fit < kMaxPredicted)
    want = std::max(want, static_cast<size_t>(fit));
  else if (!ring.empty())
    want = std::max(want, ring.capacity() + ring.capacity() / 2);
  return want;
}

void GrowthTracker::add(const GrowthKey& key, double t, double objects, double bytes) {
  auto& ring = series_[key];
  while (!ring.empty() && ring.front().t < t - window_s_) ring.pop_front();
  if (ring.full()) ring.reserve(grown_capacity(ring, t));
  ring.push_back({t, objects, bytes});
}

GrowthRates GrowthTracker::rate(const GrowthKey& key) const {
  auto it = series_.find(key);
  if (it == series_.end()) return {};
  const auto& s = it->second;
  return {slope(s.size(), [&](size_t i) { return std::pair(s[i].t, s[i].objects); }),
          slope(s.size(), [&](size_t i) { return std::pair(s[i].t, s[i].bytes); })};
}

void GrowthTracker::history(const GrowthKey& key, std::vector<HistoryPoint>* out) const {
  out->clear();
  auto it = series_.find(key);
  if (it == series_.end()) return;
  const auto& s = it->second;
  out->reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) out->push_back({s[i].t, s[i].objects});
}

size_t GrowthTracker::capacity(const GrowthKey& key) const {
  auto it = series_.find(key);
  return it == series_.end() ? 0 : it->second.capacity();
}

void GrowthTracker::expire(double now) {
  for (auto it = series_.begin(); it != series_.end();) {
    if (it->second.empty() || it->second.back().t < now - window_s_)
      it = series_.erase(it);
    else
      ++it;
  }
}

}  // namespace slableak
