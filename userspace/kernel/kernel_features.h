// What the running kernel and our credentials allow. Each check that fails
// throws an environment Error whose message names the fix.
#pragma once
#include <string>

#include "program_plan.h"  // struct KernelFeatures

namespace slableak {

// Root, or CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN.
void require_bpf_privileges();
// /sys/kernel/btf/vmlinux present and parsable.
KernelFeatures probe_kernel_features();

}  // namespace slableak
