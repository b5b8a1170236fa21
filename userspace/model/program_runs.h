// The kernel's own count of runs it skipped, per slableak program.
//
// A BPF program is not run when it (since 6.1 for tp_btf, 6.7 for raw_tp and
// tracepoint programs) or, on older kernels, another program is already
// running on that CPU: an allocation or free in an interrupt that arrives
// while the program runs. The kernel counts each skipped run per program as
// `recursion_misses` in struct bpf_prog_info (5.12+). A skipped program
// cannot count itself, so the kernel's figure is the only one there is; a
// lost free leaves its object counted until the address is reused.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slableak {

struct ProgramRuns {
  std::string program;         // the BPF program's name in the object
  bool kernel_counts = false;  // the kernel's bpf_prog_info has recursion_misses (5.12+)
  uint64_t recursion_misses = 0;
};

// Is @program one of the free programs (kfree, kmem_cache_free and their
// variants)? A miss there loses a free; a miss elsewhere loses an allocation.
bool is_free_program(std::string_view program);

struct MissTotals {
  bool kernel_counts = false;  // at least one program's figure came from the kernel
  uint64_t all = 0;            // summed over every program
  uint64_t frees = 0;          // summed over the free programs
};
MissTotals sum_misses(const std::vector<ProgramRuns>& programs);

// What the reports say about where the figure comes from: "kernel", or
// "unavailable: <why>" when no program's info carries the field.
std::string miss_source(const std::vector<ProgramRuns>& programs);

}  // namespace slableak
