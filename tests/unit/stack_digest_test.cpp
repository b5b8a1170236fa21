#include "stack_digest.h"

#include <gtest/gtest.h>

using namespace slableak;

TEST(StackDigest, PinnedValues) {
  // FNV-1a-64 over "frame\n" bytes, computed independently (Python).
  EXPECT_EQ(stack_digest({"load_msg+0x5a", "do_msgsnd+0xa1", "__x64_sys_msgsnd+0x1c"}), "1027994228568be7");
  EXPECT_EQ(stack_digest({}), "cbf29ce484222325");  // FNV offset basis
}

TEST(StackDigest, FrameBoundariesAndOrderMatter) {
  EXPECT_EQ(stack_digest({"ab", "c"}), "55b7cb2f21b10c89");
  EXPECT_EQ(stack_digest({"a", "bc"}), "b0aa1fccdeaaa7d9");
  EXPECT_NE(stack_digest({"a", "b"}), stack_digest({"b", "a"}));
  const auto d = stack_digest({"x+0x1"});
  EXPECT_EQ(d.size(), 16u);
  EXPECT_EQ(d.find_first_not_of("0123456789abcdef"), std::string::npos);
}

// The symbolizer feeds frames one at a time: same digest as the whole list.
TEST(StackDigest, IncrementalEqualsWhole) {
  StackDigest d;
  EXPECT_EQ(digest_hex(d.value()), "cbf29ce484222325");
  for (const char* f : {"load_msg+0x5a", "do_msgsnd+0xa1", "__x64_sys_msgsnd+0x1c"}) d.add_frame(f);
  EXPECT_EQ(d.value(), 0x1027994228568be7ull);
  EXPECT_EQ(digest_hex(d.value()), "1027994228568be7");
  EXPECT_EQ(digest_hex(0x1f), "000000000000001f");  // zero-padded to 16 digits
}
