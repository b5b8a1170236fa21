#include "pprof_profile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>
#include <sstream>
#include <string>

#include "../support/pprof_tools.h"
#include "../support/sample_snapshot.h"
#include "report.h"

using namespace slableak;

namespace {

std::string hex(const std::string& b) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) (out += d[c >> 4]) += d[c & 15];
  return out;
}

StackReport stack(const std::string& cache, std::vector<std::string> frames, int64_t objects, const std::string& id,
                  const std::string& fn_id) {
  StackReport s;
  s.cache = cache;
  s.stack_id = id;
  s.stack_fn_id = fn_id;
  s.frames = frames;
  s.objects = objects;
  s.bytes = objects * 2048;
  s.allocs = static_cast<uint64_t>(objects) + 3;
  s.verdict = Verdict::leaking;
  return s;
}

Snapshot snapshot() {
  Snapshot s = sample_snapshot("kfunc", 30);
  s.unix_time = 1700000000.5;
  s.stacks.push_back(stack("kmalloc-2k", {"leaky_fn+0x1a [leakmod]", "do_thing+0x20", "do_syscall_64+0x71"}, 40,
                           "1111111111111111", "aaaaaaaaaaaaaaaa"));
  // Same functions, other offsets (another kernel build): same functions and
  // mappings in the profile, other locations.
  s.stacks.push_back(stack("kmalloc-2k", {"leaky_fn+0x2b [leakmod]", "do_thing+0x30", "do_syscall_64+0x71"}, 10,
                           "2222222222222222", "aaaaaaaaaaaaaaaa"));
  s.stacks.push_back(stack("kmalloc-2k", {"other_fn+0x10", "do_syscall_64+0x71"}, 1, "3333333333333333",
                           "bbbbbbbbbbbbbbbb"));
  return s;
}

std::string scratch(const std::string& name) {
  return "/tmp/slableak-unit-" + std::to_string(getpid()) + "-" + name;
}

// Decoders absent: skipped, except in CI where that is a failure.
#define REQUIRE_DECODERS()                                                             \
  do {                                                                                 \
    const std::string why = pprof_tools::unavailable();                                \
    if (!why.empty()) {                                                                \
      const char* ci = std::getenv("CI");                                              \
      if (ci && std::string(ci) == "true") FAIL() << why;                              \
      GTEST_SKIP() << why;                                                             \
    }                                                                                  \
  } while (0)

std::string profile_file(const Snapshot& s, const std::string& name, size_t top = 0) {
  std::ostringstream os;
  write_report(os, s, parse_format("pprof"), top);
  const std::string path = scratch(name);
  pprof_tools::write_file(path, os.str());
  return path;
}

}  // namespace

TEST(ProtoWriter, WritesTheWireFormat) {
  ProtoWriter w;
  w.uint64_field(1, 150);  // the protobuf docs' example: 08 96 01
  w.varint(300);
  w.bytes_field(2, "hi");
  w.int64_field(3, -1);  // two's complement, ten bytes
  w.packed_field(4, {1, 2, 300});
  w.packed_field(5, {});  // nothing at all for an empty packed field
  EXPECT_EQ(hex(w.bytes()), "089601ac02" "12026869" "18ffffffffffffffffff01" "2204" "0102ac02");
}

TEST(PprofProfile, IsGzipped) {
  std::ostringstream os;
  write_pprof(os, snapshot(), 0);
  ASSERT_GE(os.str().size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(os.str()[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(os.str()[1]), 0x8b);
}

TEST(PprofProfile, GoToolPprofReadsEverySampleType) {
  REQUIRE_DECODERS();
  const std::string f = profile_file(snapshot(), "types.pb.gz");
  // Default sample type inuse_space: leaky_fn holds (40 + 10) * 2048 bytes,
  // merged across the two builds' offsets because functions are named by
  // symbol alone.
  auto r = pprof_tools::go_pprof("-raw", f);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes"),
            std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n\s*43\s+88064\s+40\s+81920:)"))) << r.out;  // allocs, allocs*2048, objects, bytes
  r = pprof_tools::go_pprof("-top -nodecount=50", f);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(100kB\s+98\.04%\s+98\.04%\s+100kB\s+98\.04%\s+leaky_fn\n)")))
      << r.out;
  r = pprof_tools::go_pprof("-top -sample_index=inuse_objects", f);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n\s+50\s+98\.04%\s+98\.04%\s+50\s+98\.04%\s+leaky_fn\n)")))
      << r.out;
  r = pprof_tools::go_pprof("-top -sample_index=alloc_objects", f);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n\s+56\s+\S+\s+\S+\s+56\s+\S+\s+leaky_fn\n)"))) << r.out;
  // Labels: the fleet-wide id selects both builds' stacks.
  r = pprof_tools::go_pprof("-top -tagfocus=stack_fn_id=aaaaaaaaaaaaaaaa -sample_index=inuse_objects", f);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n\s+50\s+98\.04%\s+98\.04%\s+50\s+98\.04%\s+leaky_fn\n)"))) << r.out;
  EXPECT_EQ(r.out.find("other_fn"), std::string::npos) << r.out;
  unlink(f.c_str());
}

TEST(PprofProfile, ProtocSeesSequentialIdsAndTheHeader) {
  REQUIRE_DECODERS();
  const std::string f = profile_file(snapshot(), "protoc.pb.gz");
  const auto r = pprof_tools::protoc_decode(f);
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string& t = r.out;
  // string_table[0] is "".
  EXPECT_NE(t.find("string_table: \"\"\nstring_table: \"alloc_objects\""), std::string::npos) << t;
  // Ids from 1 without gaps: 2 mappings, 3 functions... one per distinct
  // symbol, 6 locations (the offsets differ), all leaf first.
  for (const char* block : {"mapping {\n  id: 1\n", "mapping {\n  id: 2\n", "function {\n  id: 4\n",
                            "location {\n  id: 6\n"})
    EXPECT_NE(t.find(block), std::string::npos) << block << "\n" << t;
  EXPECT_EQ(t.find("mapping {\n  id: 3\n"), std::string::npos) << t;
  EXPECT_EQ(t.find("function {\n  id: 5\n"), std::string::npos) << t;
  EXPECT_EQ(t.find("location {\n  id: 7\n"), std::string::npos) << t;
  EXPECT_EQ(t.find("address:"), std::string::npos) << "no address without --show-addresses\n" << t;
  EXPECT_NE(t.find("string_table: \"[leakmod]\""), std::string::npos) << t;
  EXPECT_NE(t.find("string_table: \"[kernel.kallsyms]\""), std::string::npos) << t;
  EXPECT_NE(t.find("string_table: \"kernel 6.12.0-test (x86_64)\""), std::string::npos) << t;
  EXPECT_NE(t.find("string_table: \"cache method kfunc: "), std::string::npos) << t;
  EXPECT_NE(t.find("time_nanos: 1700000000500000000\nduration_nanos: 30000000000\n"), std::string::npos) << t;
  EXPECT_NE(t.find("period: 1\n"), std::string::npos) << t;
  unlink(f.c_str());
}

TEST(PprofProfile, LabelsPeriodAndAddressesFollowTheOptions) {
  REQUIRE_DECODERS();
  Snapshot s = snapshot();
  s.sample_every = 64;
  s.by = "comm";
  for (auto& st : s.stacks) st.task = "holder";
  // --show-addresses: frames carry " (0x...)"; only then is an address set.
  s.stacks[2].frames =
      FrameList(std::vector<std::string>{"other_fn+0x10 (0xffffffff81234567)", "do_syscall_64+0x71 (0xffffffff81000071)"});
  const std::string f = profile_file(s, "labels.pb.gz");
  auto r = pprof_tools::go_pprof("-raw", f);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Period: 64"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("comm:[holder]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdict:[leaking]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cache:[kmalloc-2k]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stack_id:[1111111111111111]"), std::string::npos) << r.out;
  const auto d = pprof_tools::protoc_decode(f);
  ASSERT_EQ(d.status, 0) << d.out;
  EXPECT_NE(d.out.find("address: 18446744071581156711"), std::string::npos) << d.out;  // 0xffffffff81234567
  EXPECT_NE(d.out.find("string_table: \"estimates: 1 in 64 allocations sampled"), std::string::npos) << d.out;
  unlink(f.c_str());
}

TEST(PprofProfile, TopLimitsTheSamples) {
  REQUIRE_DECODERS();
  const std::string f = profile_file(snapshot(), "top.pb.gz", 1);
  auto r = pprof_tools::go_pprof("-top -sample_index=inuse_objects", f);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("of 40 total"), std::string::npos) << r.out;
  unlink(f.c_str());
}
