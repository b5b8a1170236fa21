#include "prog_stats.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cstddef>

namespace slableak {

std::vector<ProgramRuns> read_program_runs(const std::vector<ProgramFd>& programs) {
  std::vector<ProgramRuns> out;
  for (const auto& p : programs) {
    if (p.fd < 0) continue;
    ProgramRuns r;
    r.program = p.name;
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    // The kernel copies at most its own struct's size and says how much in
    // len: a kernel before 5.12 stops short of recursion_misses.
    if (bpf_obj_get_info_by_fd(p.fd, &info, &len) == 0 &&
        len >= offsetof(bpf_prog_info, recursion_misses) + sizeof info.recursion_misses) {
      r.kernel_counts = true;
      r.recursion_misses = info.recursion_misses;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace slableak
