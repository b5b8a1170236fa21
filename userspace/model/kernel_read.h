// What one read of the kernel maps yields, as plain values (no libbpf types),
// so everything downstream is testable without root.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "slableak.h"

namespace slableak {

static_assert(sizeof(slk_agg_key) == 16, "slk_agg_key layout shared with BPF");
static_assert(sizeof(slk_agg_val) == 32, "slk_agg_val layout shared with BPF");
static_assert(sizeof(slk_live) == 24, "slk_live layout shared with BPF");
static_assert(sizeof(slk_stats) == 11 * 8, "slk_stats layout shared with BPF");

struct AggRow {
  slk_agg_key key;
  slk_agg_val val;
};

struct KernelRead {
  uint64_t now_ns = 0;  // CLOCK_MONOTONIC, same clock as bpf_ktime_get_ns()
  std::vector<AggRow> aggs;
  std::unordered_map<uint32_t, std::vector<uint64_t>> stacks;  // stack id -> ips (those asked for)
  size_t stacks_in_use = 0;                                    // distinct stack ids in aggs
  slk_stats stats{};                                           // summed over CPUs
  uint64_t recursion_misses = 0;                               // summed over programs
};

}  // namespace slableak
