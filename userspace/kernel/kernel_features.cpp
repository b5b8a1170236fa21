#include "kernel_features.h"

#include <bpf/btf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "error.h"

namespace slableak {
namespace {

bool has_cap(const __user_cap_data_struct data[2], int cap) {
  return data[cap / 32].effective & (1u << (cap % 32));
}

}  // namespace

void require_bpf_privileges() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0)
    throw env_error(std::string("cannot read capabilities: ") + std::strerror(errno));
  constexpr int kCapSysAdmin = 21, kCapPerfmon = 38, kCapBpf = 39;
  const bool ok = has_cap(data, kCapSysAdmin) || (has_cap(data, kCapBpf) && has_cap(data, kCapPerfmon));
  if (!ok)
    throw env_error("slableak must run as root (or with CAP_BPF and CAP_PERFMON): run it as root");
}

KernelFeatures probe_kernel_features() {
  KernelFeatures f;
  utsname u{};
  if (uname(&u) == 0) f.release = u.release;
  const std::string path = "/sys/kernel/btf/vmlinux";
  if (access(path.c_str(), R_OK) != 0)
    throw env_error("no kernel BTF at " + path + ": slableak needs a kernel built with "
                    "CONFIG_DEBUG_INFO_BTF=y (standard on Debian/Ubuntu 5.10+ kernels)");
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux)
    throw env_error("cannot parse /sys/kernel/btf/vmlinux (" + std::string(std::strerror(errno)) +
                    "): is the kernel BTF complete?");
  f.has_kmem_cache_kfunc = btf__find_by_name_kind(vmlinux, "bpf_get_kmem_cache", BTF_KIND_FUNC) > 0;
  f.has_kmalloc_node_event = btf__find_by_name_kind(vmlinux, "btf_trace_kmalloc_node", BTF_KIND_TYPEDEF) > 0;
  btf__free(vmlinux);
  return f;
}

}  // namespace slableak
