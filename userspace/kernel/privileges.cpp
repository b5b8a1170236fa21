#include "privileges.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "error.h"
#include "unique_fd.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

namespace slableak {
namespace {

struct CapSets {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
};

uint64_t bit(int cap) { return cap >= 0 && cap < 64 ? uint64_t{1} << cap : 0; }

bool get_caps(CapSets* out) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  out->effective = data[0].effective | (uint64_t{data[1].effective} << 32);
  out->permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  out->inheritable = data[0].inheritable | (uint64_t{data[1].inheritable} << 32);
  return true;
}

bool set_caps(const CapSets& c) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<uint32_t>(c.effective);
  data[1].effective = static_cast<uint32_t>(c.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(c.permitted);
  data[1].permitted = static_cast<uint32_t>(c.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(c.inheritable);
  data[1].inheritable = static_cast<uint32_t>(c.inheritable >> 32);
  return syscall(SYS_capset, &hdr, data) == 0;
}

int last_cap() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int n = -1;
  if (in >> n && n > 0 && n < 64) return n;
  return CAP_LAST_CAP;
}

std::string hex(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string names(uint64_t mask) {
  std::string out;
  for (int c = 0; c < 64; ++c)
    if (mask & bit(c)) {
      if (!out.empty()) out += ',';
      out += capability_name(c);
    }
  return out.empty() ? "none" : out;
}

}  // namespace

std::string capability_name(int cap) {
  static const char* const known[] = {
      "CAP_CHOWN",           "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
      "CAP_FSETID",          "CAP_KILL",         "CAP_SETGID",          "CAP_SETUID",
      "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
      "CAP_NET_ADMIN",       "CAP_NET_RAW",      "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
      "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",    "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
      "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",    "CAP_SYS_BOOT",        "CAP_SYS_NICE",
      "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",     "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
      "CAP_LEASE",           "CAP_AUDIT_WRITE",  "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
      "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",    "CAP_SYSLOG",          "CAP_WAKE_ALARM",
      "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",   "CAP_PERFMON",         "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE",
  };
  if (cap >= 0 && static_cast<size_t>(cap) < sizeof known / sizeof known[0]) return known[cap];
  return "cap_" + std::to_string(cap);
}

bool can_read_file(const std::string& path, std::string* why) {
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (why) *why = path + ": " + std::strerror(errno);
    return false;
  }
  char c;
  const bool ok = read(fd.get(), &c, 1) >= 0;
  if (!ok && why) *why = path + ": " + std::strerror(errno);
  return ok;
}

bool bpf_syscall_allowed(std::string* why) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_fd = static_cast<__u32>(-1);
  const long r = syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof attr);
  const int e = errno;
  if (r < 0 && e == EBADF) return true;  // past the privilege gate, stopped at the fd
  if (why) *why = std::string("bpf(BPF_MAP_LOOKUP_ELEM): ") + (r < 0 ? std::strerror(e) : "unexpected success");
  return false;
}

std::vector<int> bpf_syscall_helpers() { return {CAP_BPF, CAP_SYS_ADMIN}; }
std::vector<int> file_read_helpers() { return {CAP_DAC_READ_SEARCH, CAP_DAC_OVERRIDE}; }
std::vector<int> directory_write_helpers() { return {CAP_DAC_OVERRIDE, CAP_FOWNER}; }

CapabilityDrop drop_capabilities(const std::vector<CapabilityNeed>& needs) {
  CapabilityDrop out;
  CapSets orig;
  if (!get_caps(&orig)) throw runtime_error(std::string("capget: ") + std::strerror(errno));
  out.effective_before = out.effective_after = orig.effective;
  if (orig.permitted == 0) {
    out.summary = "no capabilities held: nothing to drop";
    return out;
  }
  auto with_effective = [&](uint64_t eff) {
    CapSets c = orig;
    c.effective = eff & orig.permitted;
    return set_caps(c);
  };
  auto restore = [&] { set_caps(orig); };

  // 1-2: find the smallest set, trying it out in the effective set only.
  uint64_t keep = 0;
  if (!with_effective(keep)) throw runtime_error(std::string("capset: ") + std::strerror(errno));
  for (const auto& need : needs) {
    std::string why;
    if (need.check(&why)) continue;
    bool met = false;
    for (int cap : need.helpers) {
      if (!(orig.permitted & bit(cap)) || (keep & bit(cap))) continue;
      keep |= bit(cap);
      with_effective(keep);
      std::string again;
      if (need.check(&again)) {
        met = true;
        break;
      }
    }
    if (!met) {
      // Something this code does not know about (an LSM, an odd mount):
      // better to keep running as we were than to break the exporter.
      restore();
      out.summary = "keeping all capabilities: without them, " + need.what + " fails (" + why + ")";
      return out;
    }
  }

  // 3: commit. Dropping from the bounding set needs CAP_SETPCAP in force.
  CapSets full = orig;
  full.effective = orig.permitted;
  set_caps(full);
  if (orig.permitted & bit(CAP_SETPCAP)) {
    const int last = last_cap();
    for (int cap = 0; cap <= last; ++cap)
      if (!(keep & bit(cap))) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  const CapSets final_sets{keep, keep, 0};
  if (!set_caps(final_sets)) {
    const int e = errno;
    restore();
    throw runtime_error(std::string("capset: ") + std::strerror(e));
  }
  CapSets now;
  if (!get_caps(&now) || now.effective != keep || now.permitted != keep)
    throw runtime_error("capabilities not reduced as asked (effective " + hex(now.effective) + ")");
  uint64_t bounding = 0;
  for (int cap = 0; cap < 64; ++cap)
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) bounding |= bit(cap);

  out.changed = true;
  out.effective_after = now.effective;
  out.bounding_after = bounding;
  for (int c = 0; c < 64; ++c)
    if (keep & bit(c)) out.kept.push_back(c);
  out.summary = "capabilities dropped after attach: effective " + hex(orig.effective) + " -> " + hex(now.effective) +
                " (kept: " + names(keep) + ")";
  // The needs were met with exactly these sets; say so if that changed.
  for (const auto& need : needs) {
    std::string why;
    if (!need.check(&why)) out.summary += "; WARNING: " + need.what + " now fails (" + why + ")";
  }
  return out;
}

}  // namespace slableak
