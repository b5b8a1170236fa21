// Userspace half of the stack fingerprint cache (bpf/stack_cache.h): from
// one sample taken at a new allocation site (its unwound stack and the raw
// kernel stack words above the BPF program's frame), find where the return
// addresses of the site's callers sit, so the kernel can later read them
// directly instead of unwinding. Pure: unit-tested without root.
#pragma once
#include <cstdint>
#include <vector>

#include "slableak.h"

namespace slableak {

// @ips: the captured stack, innermost first. @raw/@nwords: the window.
// The offsets are for ips[at+1], ips[at+2], ... where ips[at] == call_site,
// searched in increasing order (callers sit at higher addresses). A site
// whose call_site is not in the stack gets n = 0 (fingerprint = call_site).
slk_site learn_site_offsets(uint64_t call_site, const std::vector<uint64_t>& ips, const uint64_t* raw,
                            uint32_t nwords);

// Two samples of the same site: the offsets both agree on, as a prefix. A
// return address can also sit in a stale stack slot left by an earlier call;
// the kernel's random stack offset moves those between samples, while the
// real slots stay put relative to the tracepoint's arguments.
slk_site agreed_site(const slk_site& a, const slk_site& b);

}  // namespace slableak
