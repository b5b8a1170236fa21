// What one read of the kernel maps yields, as plain values (no libbpf types),
// so everything downstream is testable without root.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "program_runs.h"
#include "slableak.h"
#include "tracer_counters.h"

namespace slableak {

static_assert(sizeof(slk_agg_key) == 16, "slk_agg_key layout shared with BPF");
static_assert(sizeof(slk_agg_val) == 32, "slk_agg_val layout shared with BPF");
static_assert(sizeof(slk_live) == 16, "slk_live layout shared with BPF");
static_assert(sizeof(slk_agg_slot) == 32, "slk_agg_slot layout shared with BPF: two to a cache line");
static_assert(sizeof(slk_task_key) == 24, "slk_task_key layout shared with BPF");
constexpr size_t kernel_counter_count() {
  size_t n = 0;
  for (const auto& c : kTracerCounters) n += c.in_kernel_stats ? 1 : 0;
  return n;
}
static_assert(sizeof(slk_stats) == kernel_counter_count() * sizeof(uint64_t), "slk_stats layout shared with BPF");

struct AggRow {
  slk_agg_key key;
  slk_agg_val val;
};

struct KernelRead {
  uint64_t now_ns = 0;  // CLOCK_MONOTONIC, same clock as bpf_ktime_get_ns()
  std::vector<AggRow> aggs;
  std::unordered_map<uint32_t, std::vector<uint64_t>> stacks;  // stack id -> ips (those asked for)
  std::vector<uint32_t> stored_stacks;  // every id the kernel stack store holds (bpf/stack_store.h)
  TracerCounters counters;  // kernel ones summed over CPUs, recursion misses over programs
  uint64_t free_recursion_misses = 0;  // of those, on the free programs
  std::vector<ProgramRuns> programs;   // the kernel's figures per loaded program
  std::array<uint64_t, SLK_MAX_CACHES> implicit_frees_by_cache{};  // by selected-cache index
  // --by: what each task slot of the aggregate keys names ("holder",
  // "1234 holder", "/system.slice/x.service"); slot 0 is "other".
  std::unordered_map<uint8_t, std::string> task_names;
};

}  // namespace slableak
