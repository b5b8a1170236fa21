// The architecture slableak is built for, and what the code may assume about
// it. A build's BPF object (bpf/, vmlinux/<arch>/) and its userspace go
// together and run on a kernel of the same architecture, so these are
// compile-time facts, each with the reason it holds.
#pragma once
#include <string>
#include <string_view>

namespace slableak {

#if defined(__x86_64__)
inline constexpr std::string_view kTargetArch = "x86_64";
// bpf/stack_cache.h's fingerprints: proven on x86-64 (plain return
// addresses on 16 KiB-aligned stacks; the tests check the stacks they name).
inline constexpr bool kStackFingerprintsProven = true;
#elif defined(__aarch64__)
inline constexpr std::string_view kTargetArch = "arm64";
// Not proven on arm64 (pointer-authenticated return addresses on the stack,
// see bpf/stack_cache.h): every tracked allocation is unwound instead.
inline constexpr bool kStackFingerprintsProven = false;
#else
#error "slableak builds for x86_64 and arm64 only (bpf/ and vmlinux/ know no other architecture)"
#endif

// What reports say about stack fingerprints: "on", or "off: <why>".
// @requested is false under --no-stack-cache.
inline std::string stack_fingerprints_state(bool requested, bool proven = kStackFingerprintsProven,
                                            std::string_view arch = kTargetArch) {
  if (!requested) return "off: --no-stack-cache";
  if (!proven) return "off: not proven on " + std::string(arch);
  return "on";
}

}  // namespace slableak
