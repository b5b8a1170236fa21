#include "tracer_counters.h"

#include <cstring>

namespace slableak {

void TracerCounters::set_from_kernel(const slk_stats& st) {
  const auto* base = reinterpret_cast<const unsigned char*>(&st);
  for (const auto& c : kTracerCounters) {
    if (!c.in_kernel_stats) continue;
    uint64_t v = 0;
    std::memcpy(&v, base + c.stats_offset, sizeof v);
    (*this)[c.id] = v;
  }
}

std::string_view counter_family_help(std::string_view metric) {
  if (metric == "slableak_tracer_events_total") return "Events handled by the BPF programs, by kind";
  if (metric == "slableak_tracer_dropped_total") return "Events lost, by reason";
  return {};
}

}  // namespace slableak
