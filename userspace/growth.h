// Growth rate of a series over a sliding time window, by least squares, so a
// single noisy refresh does not swing the rate.
#pragma once
#include <deque>
#include <string>
#include <unordered_map>

namespace slableak {

class GrowthTracker {
 public:
  explicit GrowthTracker(double window_s) : window_s_(window_s) {}
  // Records @value for @key at time @t (seconds, monotonic).
  void add(const std::string& key, double t, double value);
  // Slope per second over the window; 0 with fewer than two samples.
  double rate(const std::string& key) const;
  bool has(const std::string& key) const { return series_.count(key) != 0; }
  // Forgets series not updated within the window: memory stays bounded by
  // the stacks that are currently alive.
  void expire(double now);
  size_t size() const { return series_.size(); }

 private:
  struct Sample {
    double t, v;
  };
  double window_s_;
  std::unordered_map<std::string, std::deque<Sample>> series_;
};

// Least-squares slope of (t, v) pairs; 0 when undefined.
double least_squares_slope(const std::deque<std::pair<double, double>>& points);

}  // namespace slableak
