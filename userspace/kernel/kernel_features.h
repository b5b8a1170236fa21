// What the running kernel and our credentials allow. Each check that fails
// throws an environment Error whose message names the fix.
#pragma once
#include <string>

namespace slableak {

struct KernelFeatures {
  bool has_kmem_cache_kfunc = false;  // bpf_get_kmem_cache (6.13+)
  bool has_kmalloc_node_event = false;  // separate kmalloc_node tracepoint (< 6.1)
  bool alloc_event_has_cache = false;   // kmem_cache_alloc passes struct kmem_cache * (6.0+)
  std::string release;                  // uname -r
};

// Root, or CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN.
void require_bpf_privileges();
// /sys/kernel/btf/vmlinux present and parsable.
KernelFeatures probe_kernel_features();

}  // namespace slableak
