#include "allocation_site.h"

#include <array>

namespace slableak {

std::string_view site_function_name(std::string_view fn) {
  if (fn.empty() || fn.front() == '[') return fn;  // "[unknown]"
  const auto dot = fn.find('.');                   // C names have no '.': a clone suffix
  if (dot != std::string_view::npos) fn = fn.substr(0, dot);
  // SYSCALL_DEFINE's wrappers: per arch (__x64_sys_epoll_ctl,
  // __arm64_sys_epoll_ctl), sign-extending (__se_sys_) and the body
  // (__do_sys_, inlined into the arch wrapper on some builds) are one
  // syscall, "sys_epoll_ctl"; compat ones "compat_sys_...".
  static constexpr std::array<std::string_view, 8> kSyscallPrefixes = {
      "__x64_", "__ia32_", "__x32_", "__arm64_", "__riscv_", "__s390x_", "__se_", "__do_",
  };
  for (auto p : kSyscallPrefixes) {
    if (fn.substr(0, p.size()) != p) continue;
    const auto rest = fn.substr(p.size());
    if (rest.substr(0, 4) == "sys_" || rest.substr(0, 11) == "compat_sys_") return rest;
  }
  const auto start = fn.find_first_not_of('_');
  if (start != std::string_view::npos) fn = fn.substr(start);
  constexpr std::string_view kNoprof = "_noprof";
  if (fn.size() > kNoprof.size() && fn.substr(fn.size() - kNoprof.size()) == kNoprof)
    fn = fn.substr(0, fn.size() - kNoprof.size());
  return fn;
}

bool is_copy_helper(std::string_view fn) {
  // Generic helpers that allocate and copy or format into the new object,
  // called from everywhere: the site is their caller. Names after
  // site_function_name (kmemdup_noprof is kmemdup). Each is an exported
  // function (a symbol of its own, so a frame of its own); kvmalloc and
  // __kvmalloc_node are allocator frames already (is_allocator_frame).
  // Not __alloc_skb: what allocates an skb is its caller's business, and
  // the caller is the second function anyway.
  static constexpr std::array<std::string_view, 18> kHelpers = {
      "kmemdup",          "kmemdup_nul",
      "kmemdup_array",    "kvmemdup",
      "kstrdup",          "kstrndup",
      "kstrdup_const",    "kvasprintf",
      "kvasprintf_const", "kasprintf",
      "krealloc",         "krealloc_node_align",
      "kvrealloc",        "kvrealloc_node_align",
      "memdup_user",      "memdup_user_nul",
      "vmemdup_user",     "strndup_user",
  };
  const auto name = site_function_name(fn);
  for (auto h : kHelpers)
    if (name == h) return true;
  return false;
}

void SiteDigest::add_function(std::string_view fn) {
  if (taken_ == kFunctions) return;
  if (taken_ == 0 && is_copy_helper(fn)) return;
  d_.add_frame(site_function_name(fn));
  ++taken_;
}

uint64_t site_digest(const std::vector<std::string>& functions) {
  SiteDigest d;
  for (const auto& f : functions) d.add_function(f);
  return d.value();
}

}  // namespace slableak
