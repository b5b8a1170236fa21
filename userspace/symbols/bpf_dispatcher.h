// Where the kernel's BPF tracepoint dispatcher, bpf_trace_run1 .. 12, sits in
// kernel text. The kernel side drops the frames up to the last one inside it
// before it hashes a stack (bpf/stack_store.h): the return address into
// bpf_trace_run<N> moves when BPF run-time statistics are turned on, and the
// JIT'd program that some unwinders report before it has a new address at
// every load; neither is part of the path that allocated.
#pragma once
#include <optional>

#include "kallsyms.h"

namespace slableak {

// nullopt where kallsyms has no bpf_trace_run<N>, or where they do not sit
// together (more than kMaxDispatcherText bytes from the first to the end of
// the last): a wide range could take in an unrelated frame.
std::optional<Kallsyms::TextSpan> bpf_dispatcher_text(const Kallsyms& syms);

inline constexpr uint64_t kMaxDispatcherText = 64 * 1024;

}  // namespace slableak
