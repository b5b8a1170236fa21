#include "symbolizer.h"

#include <gtest/gtest.h>

#include "stack_digest.h"

using namespace slableak;

namespace {

Symbolizer make_symbolizer(bool show_addresses = false) {
  return Symbolizer(Kallsyms::parse("ffffffff81000000 T __kmalloc_noprof\n"
                                    "ffffffff81000100 T kmem_cache_alloc_noprof\n"
                                    "ffffffff81000200 T load_msg\n"
                                    "ffffffff81000300 t do_msgsnd\n"
                                    "ffffffff81000500 T do_syscall_64\n"
                                    "ffffffffc0001000 t bpf_prog_0123456789abcdef_kmalloc\t[bpf]\n"
                                    "ffffffffc0002000 t my_alloc\t[mymod]\n"),
                    show_addresses);
}

}  // namespace

TEST(Symbolizer, AllocatorFrameNames) {
  EXPECT_TRUE(is_allocator_frame("__kmalloc_noprof"));
  EXPECT_TRUE(is_allocator_frame("kmem_cache_alloc_noprof"));
  EXPECT_TRUE(is_allocator_frame("bpf_prog_0123456789abcdef_kmalloc"));
  EXPECT_TRUE(is_allocator_frame("__traceiter_kmalloc"));
  EXPECT_FALSE(is_allocator_frame("load_msg"));
  EXPECT_FALSE(is_allocator_frame("do_syscall_64"));
}

TEST(Symbolizer, DropsAllocatorFramesOnlyAtInnermostEnd) {
  const auto s = make_symbolizer();
  const std::vector<uint64_t> ips = {
      0xffffffffc0001010,  // bpf_prog_...: dropped
      0xffffffff81000020,  // __kmalloc_noprof: dropped
      0xffffffff8100025a,  // load_msg: first kept frame
      0xffffffff81000108,  // kmem_cache_alloc_noprof mid-stack: kept
      0xffffffffc0002004,  // my_alloc [mymod]
      0xffffffff81000501,  // do_syscall_64
      0,                   // end of stack
      0xffffffff81000301,  // after the zero: ignored
  };
  const auto st = s.symbolize_uncached(ips);
  const std::vector<std::string> frames = {"load_msg+0x5a", "kmem_cache_alloc_noprof+0x8", "my_alloc+0x4 [mymod]",
                                           "do_syscall_64+0x1"};
  const std::vector<std::string> functions = {"load_msg", "kmem_cache_alloc_noprof", "my_alloc [mymod]",
                                              "do_syscall_64"};
  EXPECT_EQ(st.frames, frames);
  EXPECT_EQ(st.functions, functions);
}

// arm64 (and x86-64 on 5.10) unwinders start at the JIT'd program, which has
// no symbol: it is dropped with the tracer frames after it, but an unnamed
// frame with no allocator frame after it is kept.
TEST(Symbolizer, DropsUnnamedFramesOnlyAheadOfAllocatorFrames) {
  const auto s = make_symbolizer();
  const auto st = s.symbolize_uncached({0xffffffff80000010,  // [unknown]: the BPF program
                                        0xffffffff81000020,  // __kmalloc_noprof
                                        0xffffffff8100025a,  // load_msg
                                        0xffffffff80000020,  // [unknown] mid-stack: kept
                                        0xffffffff81000501});
  EXPECT_EQ(st.frames, (std::vector<std::string>{"load_msg+0x5a", "[unknown]", "do_syscall_64+0x1"}));
  const auto lone = s.symbolize_uncached({0xffffffff80000010, 0xffffffff8100025a});
  EXPECT_EQ(lone.frames, (std::vector<std::string>{"[unknown]", "load_msg+0x5a"}));
}

TEST(Symbolizer, ZeroIpTerminatesAndCaches) {
  auto s = make_symbolizer();
  EXPECT_TRUE(s.symbolize_uncached({0, 0}).frames.empty());
  const auto& first = s.symbolize(7, {0xffffffff8100025a, 0xffffffff81000301});
  ASSERT_EQ(first.frames.size(), 2u);
  EXPECT_EQ(first.frames[1], "do_msgsnd+0x1");
  // Same id: the cached stack comes back, whatever ips are passed.
  const auto& again = s.symbolize(7, {0xffffffff81000501});
  EXPECT_EQ(again.frames.size(), 2u);
  ASSERT_NE(s.cached(7), nullptr);
  EXPECT_EQ(s.cached(8), nullptr);
}

// The kernel side zeroes the frames up to the last one inside the BPF
// dispatcher (bpf/stack_store.h): leading zeros are skipped, and the next
// zero still ends the stack.
TEST(Symbolizer, LeadingZerosAreFramesTheKernelDropped) {
  const auto s = make_symbolizer();
  const auto st = s.symbolize_uncached({0, 0, 0, 0xffffffff8100025a, 0xffffffff81000301, 0, 0xffffffff81000501});
  EXPECT_EQ(st.frames, (std::vector<std::string>{"load_msg+0x5a", "do_msgsnd+0x1"}));
}

// A symbolized stack keeps addresses, not strings: the digest is taken once
// from the frames as the reports show them, and the text read later is the
// same as symbolizing it as strings would give.
TEST(Symbolizer, DigestAndTextOfTheSymbolizedStack) {
  auto s = make_symbolizer();
  const std::vector<uint64_t> ips = {0xffffffff81000020, 0xffffffff8100025a, 0xffffffffc0002004, 0xffffffff81000501,
                                     0xffffffff80000000, 0};
  const auto& st = s.symbolize(3, ips);
  const std::vector<std::string> frames = {"load_msg+0x5a", "my_alloc+0x4 [mymod]", "do_syscall_64+0x1", "[unknown]"};
  EXPECT_EQ(st.frames, frames);
  EXPECT_EQ(st.functions, (std::vector<std::string>{"load_msg", "my_alloc [mymod]", "do_syscall_64", "[unknown]"}));
  EXPECT_EQ(digest_hex(st.digest), stack_digest(frames));

  // A literal stack takes its digest from its frames too.
  const SymbolizedStack literal{{"[stack missing]"}, {"[stack missing]"}};
  EXPECT_EQ(digest_hex(literal.digest), stack_digest({"[stack missing]"}));
  EXPECT_EQ(digest_hex(SymbolizedStack{}.digest), stack_digest({}));
}

TEST(Symbolizer, ShowAddressesIsInTheFramesNotTheDigest) {
  Symbolizer s(Kallsyms::parse("ffffffff81000200 T load_msg\n"), true);
  const auto st = s.symbolize_uncached({0xffffffff8100025a, 0xffffffff80000001});
  const std::vector<std::string> frames = {"load_msg+0x5a (0xffffffff8100025a)", "[unknown] (0xffffffff80000001)"};
  EXPECT_EQ(st.frames, frames);
  EXPECT_EQ(st.functions, (std::vector<std::string>{"load_msg", "[unknown]"}));
  EXPECT_EQ(digest_hex(st.digest), stack_digest({"load_msg+0x5a", "[unknown]"}));
}

TEST(Symbolizer, OnlyAllocatorFramesLeaveAnEmptyStack) {
  auto s = make_symbolizer();
  const auto st = s.symbolize_uncached({0xffffffffc0001010, 0xffffffff81000020});
  EXPECT_TRUE(st.frames.empty());
  EXPECT_TRUE(st.functions.empty());
  EXPECT_EQ(digest_hex(st.digest), stack_digest({}));
}

// stack_id is the digest of the frames as the default output shows them:
// --show-addresses adds the raw address to what is printed, never to the
// digest, so ids stay the same across options, restarts and hosts (and the
// address never reaches the id).
TEST(Symbolizer, ShowAddressesLeavesTheDigestAlone) {
  const std::vector<uint64_t> ips = {0xffffffff8100025a, 0xffffffffc0002004, 0xffffffff81000501};
  const auto plain = make_symbolizer(false).symbolize_uncached(ips);
  const auto shown = make_symbolizer(true).symbolize_uncached(ips);
  EXPECT_EQ(digest_hex(plain.digest), digest_hex(shown.digest));
  EXPECT_EQ(shown.frames[0], "load_msg+0x5a (0xffffffff8100025a)");
  EXPECT_EQ(plain.frames[0], "load_msg+0x5a");
}

// A module loaded after start: stacks symbolized once the table is re-read
// name its functions; stacks symbolized before keep the table they had; a
// retired id is forgotten.
TEST(Symbolizer, ReplacedTableNamesNewModulesAndForgetDropsAnId) {
  auto s = make_symbolizer(false);
  const std::vector<uint64_t> ips = {0xffffffffc0009010, 0xffffffff81000505};
  const SymbolizedStack& before = s.symbolize(1, ips);
  ASSERT_FALSE(before.frames.empty());
  EXPECT_EQ(before.frames[0].find("late_alloc"), std::string::npos);
  s.replace_symbols(Kallsyms::parse("ffffffff81000500 T do_syscall_64\n"
                                    "ffffffffc0009000 t late_alloc\t[latemod]\n"));
  const SymbolizedStack& after = s.symbolize(2, ips);
  ASSERT_FALSE(after.frames.empty());
  EXPECT_EQ(after.frames[0], "late_alloc+0x10 [latemod]");
  EXPECT_EQ(s.cached(1)->frames[0], before.frames[0]);
  EXPECT_EQ(s.size(), 2u);
  s.forget(1);
  EXPECT_EQ(s.cached(1), nullptr);
  EXPECT_EQ(s.size(), 1u);
}
