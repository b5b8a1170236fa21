#include "growth.h"

namespace slableak {

double least_squares_slope(const std::deque<std::pair<double, double>>& pts) {
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

void GrowthTracker::add(const std::string& key, double t, double value) {
  auto& s = series_[key];
  s.push_back({t, value});
  while (!s.empty() && s.front().t < t - window_s_) s.pop_front();
}

double GrowthTracker::rate(const std::string& key) const {
  auto it = series_.find(key);
  if (it == series_.end()) return 0;
  std::deque<std::pair<double, double>> pts;
  for (auto& s : it->second) pts.emplace_back(s.t, s.v);
  return least_squares_slope(pts);
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
