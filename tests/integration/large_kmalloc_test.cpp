// kmalloc-large: kmallocs above the largest kmalloc cache, which the page
// allocator serves. Real ones are held from userspace: "user" keys of
// 20000 bytes (holder large), whose payload user_preparse kmallocs as 20024
// bytes, 32 KiB of pages each. No /proc/slabinfo line moves; /proc/meminfo
// Slab: does (model/triage.h large_kmalloc_bytes).
#include <unistd.h>

#include <thread>

#include "live_session.h"
#include "proc_files.h"
#include "support.h"
#include "triage.h"

namespace slableak::test {
namespace {

constexpr unsigned kHeld = 1000;  // 20 MB of payload: under root's 25 MB key quota
constexpr int64_t kPagesEach = 32768;

std::string dump(const Snapshot& s) {
  std::string out;
  for (const auto& st : s.stacks) {
    if (st.objects < 5) continue;
    out += st.cache + " objects=" + std::to_string(st.objects) + " bytes=" + std::to_string(st.bytes) + " [";
    for (size_t i = 0; i < st.frames.size() && i < 6; ++i) out += st.frames[i] + " ";
    out += "]\n";
  }
  return out;
}

int64_t large_bytes_now() {
  TriageSample t;
  t.slabinfo = read_host_slabinfo();
  t.slab_bytes = parse_meminfo_bytes(read_file("/proc/meminfo"), "Slab:");
  t.page_size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return large_kmalloc_bytes(t);
}

void held_keys_found(CacheMethod method, const char* expect_method) {
  TraceOptions so;
  so.caches = {"kmalloc-large", "kmalloc-8k"};
  so.method = method;
  auto session = open_live_session(so);
  ASSERT_EQ(session->method(), expect_method);
  const int64_t before = large_bytes_now();
  Holder keys("large", kHeld);
  const int64_t grown = large_bytes_now() - before;
  const Snapshot s = session->collect();
  SCOPED_TRACE(dump(s));
  const Under u = under(s, "kmalloc-large", "user_preparse");
  EXPECT_NEAR(u.objects, kHeld, kHeld * 0.02);
  // Bytes as the kernel reserved them: whole pages, 32 KiB per 20024 bytes.
  EXPECT_EQ(u.bytes, u.objects * kPagesEach);
  // Never in a slab cache.
  EXPECT_EQ(under(s, "kmalloc-8k", "user_preparse").objects, 0);
  // The kernel's own figure moved by the same pages (this host, under the
  // integration lock: nothing else holds large kmallocs for long).
  EXPECT_NEAR(static_cast<double>(grown), static_cast<double>(kHeld * kPagesEach), kHeld * kPagesEach * 0.05);
  for (const auto& c : s.caches)
    if (c.name == "kmalloc-large") {
      EXPECT_FALSE(c.in_slabinfo);
      EXPECT_GE(c.attributed_objects, static_cast<int64_t>(kHeld) * 98 / 100);
    }
  // Frees arrive through kfree: the key garbage collector frees the
  // payloads some time after the keys are invalidated.
  keys.release();
  int64_t left = u.objects;
  for (int i = 0; i < 50 && left > kHeld / 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    left = under(session->collect(), "kmalloc-large", "user_preparse").objects;
  }
  EXPECT_LE(left, kHeld / 100);
}

TEST(KmallocLarge, HeldKeysFoundWithTheirStackAndPages) {
  REQUIRE_BPF();
  held_keys_found(CacheMethod::automatic, kernel_has_kmem_cache_kfunc() ? "kfunc" : "slab");
}

TEST(KmallocLarge, SlabMethodFindsThemToo) {
  REQUIRE_BPF();
  held_keys_found(CacheMethod::slab, "slab");
}

TEST(KmallocLarge, DerivedMethodFindsThemToo) {
  REQUIRE_BPF();
  held_keys_found(CacheMethod::derived, "derived");
}

// triage, told nothing, while 20 KB kmallocs leak: kmalloc-large is picked
// from the growth of Slab: over the slab caches' pages, and its report
// names the stack.
TEST(KmallocLarge, TriageFindsALeakOfLargeKmallocsUnprompted) {
  REQUIRE_BPF();
  Child drip({holder_bin(), "large-drip", "1000"});  // 100 keys a second, 10 s at most
  ASSERT_FALSE(drip.wait_stdout_line("ready", std::chrono::seconds(30)).empty()) << drip.err();
  const RunResult r = run_slableak({"triage", "--window", "3s", "--duration", "3s", "--top", "3"});
  drip.write_line("quit");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto following = r.out.find("following:\n");
  ASSERT_NE(following, std::string::npos) << r.out;
  const std::string first = r.out.substr(following + 11, r.out.find('\n', following + 11) - following - 11);
  EXPECT_EQ(first.substr(2, first.find(' ', 2) - 2), "kmalloc-large") << r.out;
  const auto section = r.out.find("=== kmalloc-large ===");
  ASSERT_NE(section, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("user_preparse", section), std::string::npos) << r.out;
  EXPECT_EQ(slableak_programs_after(std::chrono::seconds(5)), 0);
}

}  // namespace
}  // namespace slableak::test
