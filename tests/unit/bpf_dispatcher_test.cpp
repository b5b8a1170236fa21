#include "bpf_dispatcher.h"

#include <gtest/gtest.h>

using namespace slableak;

// The layout of 6.18's /proc/kallsyms around the dispatcher (addresses as on
// this VM, names as the kernel prints them).
TEST(BpfDispatcher, SpansBpfTraceRunOneToTwelveUpToTheNextSymbol) {
  const auto syms = Kallsyms::parse(
      "ffffffff814cc0a0 t __pfx_bpf_trace_run1\n"
      "ffffffff814cc0b0 T bpf_trace_run1\n"
      "ffffffff814cc290 T bpf_trace_run2\n"
      "ffffffff814cca00 T bpf_trace_run6\n"
      "ffffffff814cd680 T bpf_trace_run12\n"
      "ffffffff814cd8a0 t __pfx_bpf_probe_read_kernel\n"
      "ffffffff814cd8b0 T bpf_probe_read_kernel\n"
      "ffffffff81000000 T bpf_trace_runner_helper\n"  // not bpf_trace_run<digits>
      "ffffffffc0001000 t bpf_trace_run3\t[somemod]\n");  // not the core kernel
  const auto span = bpf_dispatcher_text(syms);
  ASSERT_TRUE(span);
  EXPECT_EQ(span->begin, 0xffffffff814cc0b0u);
  EXPECT_EQ(span->end, 0xffffffff814cd8a0u);
}

TEST(BpfDispatcher, UnknownWithoutTheSymbolsOrWhenTheyAreFarApart) {
  EXPECT_FALSE(bpf_dispatcher_text(Kallsyms::parse("ffffffff81000000 T do_syscall_64\n")));
  // Spread over more than kMaxDispatcherText: a range over unrelated code.
  EXPECT_FALSE(bpf_dispatcher_text(Kallsyms::parse("ffffffff81000000 T bpf_trace_run1\n"
                                                   "ffffffff81100000 T do_syscall_64\n"
                                                   "ffffffff81200000 T bpf_trace_run2\n"
                                                   "ffffffff81200100 T vfs_read\n")));
}
