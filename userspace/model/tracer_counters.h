// The tracer's counters as userspace sees them: one enumerator and one
// descriptor per line of SLK_TRACER_COUNTERS (bpf/slableak.h), which is the
// only place a counter is described.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "slableak.h"

namespace slableak {

enum class TracerCounter : size_t {
#define SLK_COUNTER_ENUM(src, field, ...) field,
  SLK_TRACER_COUNTERS(SLK_COUNTER_ENUM)
#undef SLK_COUNTER_ENUM
};

struct CounterInfo {
  TracerCounter id;
  bool in_kernel_stats;  // a field of slk_stats (else filled by userspace)
  size_t stats_offset;   // offsetof(slk_stats, field) when in_kernel_stats
  std::string_view field, json, metric, label_key, label_value, group, text, help;
};

#define SLK_COUNTER_OFFSET_K(field) offsetof(slk_stats, field)
#define SLK_COUNTER_OFFSET_P(field) 0
#define SLK_COUNTER_INFO(src, field, json, metric, lkey, lval, group, text, help) \
  CounterInfo{TracerCounter::field, #src[0] == 'K', SLK_COUNTER_OFFSET_##src(field), #field, json, metric, lkey, lval, group, text, help},
inline constexpr CounterInfo kTracerCounters[] = {SLK_TRACER_COUNTERS(SLK_COUNTER_INFO)};
#undef SLK_COUNTER_INFO
#undef SLK_COUNTER_OFFSET_K
#undef SLK_COUNTER_OFFSET_P

inline constexpr size_t kTracerCounterCount = std::size(kTracerCounters);

// Counter values by TracerCounter.
class TracerCounters {
 public:
  uint64_t& operator[](TracerCounter c) { return v_[static_cast<size_t>(c)]; }
  uint64_t operator[](TracerCounter c) const { return v_[static_cast<size_t>(c)]; }
  // The slk_stats fields, as summed over CPUs; userspace-filled ones untouched.
  void set_from_kernel(const slk_stats& st);

 private:
  std::array<uint64_t, kTracerCounterCount> v_{};
};

// HELP text of the Prometheus families whose series are told apart by a
// label (one-series families take their counter's help).
std::string_view counter_family_help(std::string_view metric);

}  // namespace slableak
