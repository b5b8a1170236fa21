#include "program_runs.h"

namespace slableak {

bool is_free_program(std::string_view program) {
  return program.rfind("kfree", 0) == 0 || program.rfind("kmem_cache_free", 0) == 0;
}

MissTotals sum_misses(const std::vector<ProgramRuns>& programs) {
  MissTotals t;
  for (const auto& p : programs) {
    if (!p.kernel_counts) continue;
    t.kernel_counts = true;
    t.all += p.recursion_misses;
    if (is_free_program(p.program)) t.frees += p.recursion_misses;
  }
  return t;
}

std::string miss_source(const std::vector<ProgramRuns>& programs) {
  if (programs.empty()) return "unavailable: no program was read";
  return sum_misses(programs).kernel_counts ? "kernel"
                                            : "unavailable: the kernel's bpf_prog_info has no recursion_misses "
                                              "(Linux 5.12 added it)";
}

}  // namespace slableak
