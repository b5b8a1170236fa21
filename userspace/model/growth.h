// Growth rates of outstanding objects and bytes per series over a sliding
// time window, by least squares, so a single noisy refresh does not swing
// the rate.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fixed_ring.h"
#include "verdict.h"

namespace slableak {

// A series: one stack (by its digest) in one cache.
struct GrowthKey {
  uint32_t cache = 0;
  uint64_t stack = 0;
  uint8_t task = 0;  // --by: the task slot (0 without --by)
  friend bool operator==(const GrowthKey&, const GrowthKey&) = default;
};
struct GrowthKeyHash {
  // The stack digest is already a good hash.
  size_t operator()(const GrowthKey& k) const noexcept {
    return k.stack ^ ((k.cache * 0x9e3779b97f4a7c15ull) + (uint64_t{k.task} << 40));
  }
};

struct GrowthRates {
  double objects_per_s = 0;
  double bytes_per_s = 0;
};

class GrowthTracker {
 public:
  explicit GrowthTracker(double window_s) : window_s_(window_s) {}
  // Records the outstanding @objects and @bytes of @key at time @t
  // (seconds, monotonic).
  void add(const GrowthKey& key, double t, double objects, double bytes);
  // Slopes per second over the window; 0 with fewer than two samples.
  GrowthRates rate(const GrowthKey& key) const;
  bool has(const GrowthKey& key) const { return series_.count(key) != 0; }
  // The outstanding objects of @key over the window, oldest first (the
  // verdict reads its history from here); replaces @out's contents.
  void history(const GrowthKey& key, std::vector<HistoryPoint>* out) const;
  // Forgets series not updated within the window: memory stays bounded by
  // the stacks that are currently alive.
  void expire(double now);
  size_t size() const { return series_.size(); }
  // Samples a series has room for (tests: the ring is sized once).
  size_t capacity(const GrowthKey& key) const;

 private:
  struct Sample {
    double t, objects, bytes;
  };
  size_t grown_capacity(const FixedRing<Sample>& ring, double t) const;

  double window_s_;
  std::unordered_map<GrowthKey, FixedRing<Sample>, GrowthKeyHash> series_;
};

// Least-squares slope of (t, v) pairs; 0 when undefined.
double least_squares_slope(const std::vector<std::pair<double, double>>& points);

}  // namespace slableak
