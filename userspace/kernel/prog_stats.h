// Reads the kernel's per-program run statistics (struct bpf_prog_info) of
// slableak's loaded programs: the one place that asks for them.
#pragma once
#include <string>
#include <vector>

#include "program_runs.h"

namespace slableak {

struct ProgramFd {
  std::string name;  // the program's name in the BPF object
  int fd = -1;       // a loaded program; negative: not loaded (skipped)
};

// One entry per loaded program, in the order given. A program whose info
// cannot be read is reported with kernel_counts = false.
std::vector<ProgramRuns> read_program_runs(const std::vector<ProgramFd>& programs);

}  // namespace slableak
