#include "kernel_features.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>
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

// Does the kmem_cache_alloc tracepoint pass a struct kmem_cache * as its
// third argument? Read from the event's BTF prototype rather than guessed
// from the version: btf_trace_kmem_cache_alloc is a typedef of a pointer to
// a function (void *ctx, call_site, ptr, <this one>, ...).
bool alloc_event_passes_cache(const btf* b) {
  const int td = btf__find_by_name_kind(b, "btf_trace_kmem_cache_alloc", BTF_KIND_TYPEDEF);
  if (td <= 0) return false;
  const btf_type* t = btf__type_by_id(b, btf__resolve_type(b, static_cast<uint32_t>(td)));
  if (!t || !btf_is_ptr(t)) return false;
  const btf_type* fn = btf__type_by_id(b, t->type);
  if (!fn || !btf_is_func_proto(fn) || btf_vlen(fn) < 4) return false;
  const btf_param* params = btf_params(fn);
  const btf_type* arg = btf__type_by_id(b, btf__resolve_type(b, params[3].type));
  if (!arg || !btf_is_ptr(arg)) return false;
  // Skip const/volatile on the pointee.
  const int target = btf__resolve_type(b, arg->type);
  const btf_type* st = target > 0 ? btf__type_by_id(b, static_cast<uint32_t>(target)) : nullptr;
  if (!st || !btf_is_struct(st)) return false;
  const char* name = btf__name_by_offset(b, st->name_off);
  return name && std::strcmp(name, "kmem_cache") == 0;
}

// Does the verifier take BPF_CMPXCHG (5.12+)? Asked the only way that is
// exact on backports too: load a four-instruction program that uses one on
// its own stack. Refused (EINVAL) before 5.12; an error for any other reason
// (no privileges) also reads as "no", which only costs speed.
bool verifier_takes_cmpxchg() {
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 0},                        // r1 = 0
      {BPF_STX | BPF_DW | BPF_MEM, BPF_REG_10, BPF_REG_1, -8, 0},               // *(u64 *)(r10 - 8) = r1
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},                        // r0 = 0
      {BPF_STX | BPF_DW | BPF_ATOMIC, BPF_REG_10, BPF_REG_1, -8, BPF_CMPXCHG},  // r0 = cmpxchg(r10 - 8, r0, r1)
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},                        // r0 = 0
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  const int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, nullptr, "GPL", insns,
                               sizeof insns / sizeof insns[0], nullptr);
  if (fd < 0) return false;
  close(fd);
  return true;
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
  const long page = sysconf(_SC_PAGESIZE);
  if (page > 0) f.page_size = static_cast<uint32_t>(page);
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
  f.alloc_event_has_cache = alloc_event_passes_cache(vmlinux);
  btf__free(vmlinux);
  f.has_bpf_cmpxchg = verifier_takes_cmpxchg();
  return f;
}

}  // namespace slableak
