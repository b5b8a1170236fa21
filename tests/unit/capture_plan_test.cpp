// The flight recorder's pure decisions (model/capture_plan.h): names,
// retention, and the trigger state machines against a made-up host.
#include "capture_plan.h"

#include <gtest/gtest.h>

#include "error.h"

using namespace slableak;

namespace {

// A host whose /proc/meminfo we write: SUnreclaim moves as the test says.
struct FakeHost {
  int64_t mem_total_kib = 4 * 1024 * 1024;  // 4 GiB
  int64_t sunreclaim_kib = 0;
  std::string meminfo() const {
    return "MemTotal:       " + std::to_string(mem_total_kib) + " kB\nMemFree:         1000 kB\nSlab:            " +
           std::to_string(sunreclaim_kib + 100) + " kB\nSReclaimable:     100 kB\nSUnreclaim:     " +
           std::to_string(sunreclaim_kib) + " kB\n";
  }
};

StackReport stack(const std::string& cache, const std::string& id, Verdict v, int64_t bytes) {
  StackReport s;
  s.cache = cache;
  s.stack_id = id;
  s.verdict = v;
  s.bytes = bytes;
  s.objects = bytes / 2048;
  s.functions = FrameList{std::vector<std::string>{"fn_" + id, "caller"}};
  return s;
}

}  // namespace

TEST(CaptureName, RoundTripsTimeAndTrigger) {
  const double t = 1796576112.345;  // 2026-12-06T16:55:12.345Z
  const std::string n = capture_name(t, CaptureTrigger::oom);
  EXPECT_EQ(n, "20261206T165512.345Z-oom");
  const auto back = parse_capture_name(n);
  ASSERT_TRUE(back);
  EXPECT_NEAR(back->unix_time, t, 0.001);
  EXPECT_EQ(back->trigger, CaptureTrigger::oom);
  for (CaptureTrigger tr : kCaptureTriggers) {
    const auto p = parse_capture_name(capture_name(t, tr));
    ASSERT_TRUE(p) << capture_trigger_name(tr);
    EXPECT_EQ(p->trigger, tr);
  }
}

TEST(CaptureName, OrdersByTime) {
  EXPECT_LT(capture_name(1000.5, CaptureTrigger::sunreclaim), capture_name(1000.6, CaptureTrigger::growth));
  EXPECT_LT(capture_name(999.999, CaptureTrigger::signal), capture_name(1000, CaptureTrigger::leaking));
}

TEST(CaptureName, RefusesWhatIsNotACapture) {
  for (const char* n : {"", ".tmp-20261206T165512.345Z-oom", "20261206T165512.345Z-", "20261206T165512.345Z-bogus",
                        "20261306T165512.345Z-oom", "2026120xT165512.345Z-oom", "notes.txt", "20261206T165512Z-oom"})
    EXPECT_FALSE(parse_capture_name(n)) << n;
}

TEST(CaptureRetention, KeepsTheNewestN) {
  std::vector<StoredCapture> s;
  for (int i = 0; i < 5; ++i) s.push_back({capture_name(1000 + i, CaptureTrigger::signal), 10});
  const auto gone = captures_to_remove(s, 3, 1 << 20);
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_EQ(gone[0], s[0].name);
  EXPECT_EQ(gone[1], s[1].name);
  EXPECT_TRUE(captures_to_remove(s, 5, 1 << 20).empty());
}

TEST(CaptureRetention, SizeCapRemovesOldestFirstButNeverTheNewest) {
  std::vector<StoredCapture> s = {{capture_name(3000, CaptureTrigger::oom), 700},
                                  {capture_name(1000, CaptureTrigger::signal), 300},
                                  {capture_name(2000, CaptureTrigger::growth), 300}};
  // 1300 bytes, cap 1000: the oldest (1000) goes, 1000 left.
  EXPECT_EQ(captures_to_remove(s, 10, 1000), std::vector<std::string>{capture_name(1000, CaptureTrigger::signal)});
  // A newest capture larger than the cap replaces all others, not itself.
  const auto gone = captures_to_remove(s, 10, 500);
  EXPECT_EQ(gone.size(), 2u);
  for (const auto& n : gone) EXPECT_NE(n, capture_name(3000, CaptureTrigger::oom));
}

// The OOM capture of the night is kept while later ones come and go: ten
// SIGUSR1 or leaking captures after it do not delete it.
TEST(CaptureRetention, TheNewestOomCaptureOutlastsLaterCaptures) {
  std::vector<StoredCapture> s = {{capture_name(1000, CaptureTrigger::oom), 1}};
  for (int i = 1; i <= 12; ++i) s.push_back({capture_name(1000 + 60 * i, CaptureTrigger::leaking), 1});
  const auto gone = captures_to_remove(s, 10, 1 << 20);
  ASSERT_EQ(gone.size(), 3u);
  for (const auto& n : gone) EXPECT_NE(n, capture_name(1000, CaptureTrigger::oom));
  EXPECT_EQ(gone[0], capture_name(1060, CaptureTrigger::leaking));
  // With only it and the newest left over the cap, it goes too.
  EXPECT_EQ(captures_to_remove({s.front(), s.back()}, 1, 1 << 20), std::vector<std::string>{s.front().name});
}

TEST(CaptureRetention, IgnoresNamesThatAreNotCaptures) {
  std::vector<StoredCapture> s = {{"README", 5}, {".tmp-x", 5}, {capture_name(1000, CaptureTrigger::signal), 1}};
  EXPECT_TRUE(captures_to_remove(s, 1, 1).empty());
}

TEST(LevelTrigger, FiresOnceWhileAboveAndRearmsBelowTheLowerLine) {
  LevelTrigger t(100, 90);
  EXPECT_FALSE(t.update(50));
  EXPECT_TRUE(t.update(100));
  EXPECT_FALSE(t.update(150));  // stuck above: no capture every interval
  EXPECT_FALSE(t.update(95));   // between the lines: still disarmed
  EXPECT_FALSE(t.update(120));
  EXPECT_FALSE(t.update(89));  // below the re-arm line
  EXPECT_TRUE(t.armed());
  EXPECT_TRUE(t.update(101));
}

TEST(SunreclaimTrigger, ShareOfMemTotalOnAFakeHost) {
  FakeHost host;
  const SizeOrShare at = parse_size_or_share("30%", "--capture-when-sunreclaim");
  const uint64_t total = static_cast<uint64_t>(meminfo_bytes(host.meminfo(), "MemTotal"));
  EXPECT_EQ(total, uint64_t{4} << 30);
  const double line = static_cast<double>(at.resolve(total));
  LevelTrigger t(line, 0.9 * line);
  std::vector<int> fired;
  // SUnreclaim in MiB, one collection each: up past 30% (1228.8 MiB), hovering, down, up again.
  const int mib[] = {100, 800, 1300, 1400, 1250, 1150, 1300, 1000, 1240, 2000};
  for (size_t i = 0; i < std::size(mib); ++i) {
    host.sunreclaim_kib = mib[i] * 1024;
    if (t.update(static_cast<double>(meminfo_bytes(host.meminfo(), "SUnreclaim")))) fired.push_back(int(i));
  }
  // 1300 fires; 1150 is above 90% (1105.9): no re-arm; 1000 re-arms; 1240 fires again.
  EXPECT_EQ(fired, (std::vector<int>{2, 8}));
}

TEST(GrowthTrigger, JudgesOnlyAFullWindow) {
  GrowthTrigger g(100, 60);
  EXPECT_FALSE(g.update(0, 0));
  EXPECT_FALSE(g.update(30, 500));  // grew fast, but the window is not full yet
  EXPECT_FALSE(g.growth());
  EXPECT_TRUE(g.update(60, 500));
  EXPECT_DOUBLE_EQ(*g.growth(), 500);
}

TEST(GrowthTrigger, RateIsOverTheWindowNotSinceStart) {
  GrowthTrigger g(100, 60);
  // Slow growth for ten minutes: 50 per minute never reaches 100 per 60 s,
  // though the total since start does.
  bool fired = false;
  for (int t = 0; t <= 600; t += 15) fired = g.update(t, t * 50.0 / 60) || fired;
  EXPECT_FALSE(fired);
  EXPECT_NEAR(*g.growth(), 50, 1e-9);
}

TEST(GrowthTrigger, HysteresisOnTheRate) {
  GrowthTrigger g(100, 60);
  double v = 0;
  std::vector<int> fired;
  // Per 15 s step: fast (40 -> 160/min), keeps fast, slow (5 -> 20/min), fast again.
  const double steps[] = {0, 40, 40, 40, 40, 40, 40, 5, 5, 5, 5, 5, 40, 40, 40, 40};
  for (size_t i = 0; i < std::size(steps); ++i) {
    v += steps[i];
    if (g.update(15.0 * double(i), v)) fired.push_back(int(i));
  }
  EXPECT_EQ(fired, (std::vector<int>{4, 14}));
}

TEST(GrowthTrigger, MemoryIsBoundedWhateverTheWindow) {
  GrowthTrigger g(1e18, 1e9);  // a window it never fills
  for (int i = 0; i < 10 * int(GrowthTrigger::kMaxSamples); ++i) g.update(i, i);
  // No assertion on internals beyond behaviour: it still answers, and the
  // ring (fixed size) dropped the oldest samples.
  EXPECT_FALSE(g.growth());
}

// A window of more intervals than the ring holds (`2G/6h` at the default
// 15 s interval is 1,440) still fires: the ring keeps samples spread over the
// whole window instead of the last 1,024 intervals, which never reached back
// to the window's start.
TEST(GrowthTrigger, AWindowLongerThanTheRingStillFires) {
  const double window = 6 * 3600, interval = 15, rate = 1000;  // bytes a second
  GrowthTrigger g(2 * window * rate / 3, window);
  bool fired = false;
  double t = 0;
  for (; t <= 2 * window && !fired; t += interval) fired = g.update(t, rate * t);
  EXPECT_TRUE(fired);
  ASSERT_TRUE(g.growth());
  EXPECT_NEAR(*g.growth(), window * rate, 2 * interval * rate);  // growth over the window, not less
  EXPECT_LE(t, window + 2 * interval);
}

TEST(LeakingTrigger, FiresForEachStackTheFirstTimeOnly) {
  LeakingTrigger t;
  Snapshot s;
  s.stacks = {stack("kmalloc-2k", "a", Verdict::unsure, 4096), stack("kmalloc-2k", "b", Verdict::pool, 4096)};
  EXPECT_EQ(t.update(s), "");
  s.stacks[0].verdict = Verdict::leaking;
  EXPECT_EQ(t.update(s), "kmalloc-2k a");
  EXPECT_EQ(t.update(s), "");
  s.stacks[0].verdict = Verdict::unsure;  // a verdict that flaps does not fire again
  EXPECT_EQ(t.update(s), "");
  s.stacks[0].verdict = Verdict::leaking;
  EXPECT_EQ(t.update(s), "");
  s.stacks.push_back(stack("kmalloc-cg-2k", "a", Verdict::leaking, 2048));  // same id, other cache
  EXPECT_EQ(t.update(s), "kmalloc-cg-2k a");
}

TEST(LeakingTrigger, RemembersABoundedNumberOfStacks) {
  LeakingTrigger t;
  Snapshot s;
  for (size_t i = 0; i < 3 * LeakingTrigger::kMaxRemembered; ++i) {
    s.stacks = {stack("kmalloc-2k", std::to_string(i), Verdict::leaking, 2048)};
    EXPECT_NE(t.update(s), "");
  }
  EXPECT_LE(t.remembered(), LeakingTrigger::kMaxRemembered);
}

TEST(CaptureOptions, SizesSharesAndRules) {
  EXPECT_EQ(parse_size("256M", "x"), uint64_t{256} << 20);
  EXPECT_EQ(parse_size("2GiB", "x"), uint64_t{2} << 30);
  EXPECT_EQ(parse_size("1536", "x"), 1536u);
  EXPECT_EQ(parse_size("64k", "x"), 65536u);
  EXPECT_DOUBLE_EQ(parse_size_or_share("30%", "x").share, 0.3);
  EXPECT_DOUBLE_EQ(parse_size_or_share("12.5%", "x").share, 0.125);
  EXPECT_EQ(parse_size_or_share("4G", "x").bytes, uint64_t{4} << 30);
  const GrowthRule r = parse_growth_rule("512M/10m", "x");
  EXPECT_EQ(r.bytes, uint64_t{512} << 20);
  EXPECT_DOUBLE_EQ(r.window_s, 600);
  for (const char* bad : {"", "0", "-1", "12X", "M", "99999999999999999999"})
    EXPECT_THROW(parse_size(bad, "x"), Error) << bad;
  for (const char* bad : {"0%", "101%", "%", "abc%", "1.2.3%", "0"})
    EXPECT_THROW(parse_size_or_share(bad, "x"), Error) << bad;
  for (const char* bad : {"512M", "512M/", "/10m", "0/10m", "512M/0s", "512M/forever", "512M/2d"})
    EXPECT_THROW(parse_growth_rule(bad, "x"), Error) << bad;
}

TEST(CaptureOptions, MeminfoFields) {
  const std::string m = "MemTotal:        8000 kB\nSUnreclaim:        12 kB\nHugePages_Total:       3\n";
  EXPECT_EQ(meminfo_bytes(m, "MemTotal"), 8000 * 1024);
  EXPECT_EQ(meminfo_bytes(m, "SUnreclaim"), 12 * 1024);
  EXPECT_EQ(meminfo_bytes(m, "HugePages_Total"), 3);
  EXPECT_EQ(meminfo_bytes(m, "SReclaimable"), -1);
  EXPECT_EQ(meminfo_bytes(m, "Mem"), -1);  // a prefix is not the key
}

TEST(CaptureSummary, NamesTheHeaviestLeakingStackFirst) {
  Snapshot s;
  s.stacks = {stack("kmalloc-2k", "pool", Verdict::pool, 1 << 20), stack("kmalloc-2k", "leak", Verdict::leaking, 8192),
              stack("kmalloc-cg-2k", "leak2", Verdict::leaking, 4096)};
  CacheHeader c;
  c.name = "kmalloc-2k";
  c.attributed_bytes = (1 << 20) + 8192;
  s.caches = {c};
  CaptureSummary sum;
  summarize_capture(s, &sum);
  EXPECT_EQ(sum.top_stack_id, "leak");
  EXPECT_EQ(sum.top_cache, "kmalloc-2k");
  EXPECT_EQ(sum.top_frame, "fn_leak");
  EXPECT_EQ(sum.top_verdict, "leaking");
  EXPECT_EQ(sum.top_bytes, 8192);
  EXPECT_EQ(sum.total_bytes, (1 << 20) + 8192);
}

// The writer's queue is full when a capture arrives: the oldest waiting one
// that is not an OOM capture makes room; OOM captures go only when nothing
// else waits, the oldest first.
TEST(CapturePlan, AFullWriterQueueDropsTheOldestNonOomCapture) {
  using T = CaptureTrigger;
  EXPECT_FALSE(waiting_capture_to_drop({}).has_value());
  EXPECT_EQ(waiting_capture_to_drop({T::signal, T::growth}), 0u);
  EXPECT_EQ(waiting_capture_to_drop({T::oom, T::sunreclaim}), 1u);
  EXPECT_EQ(waiting_capture_to_drop({T::oom, T::oom, T::leaking}), 2u);
  EXPECT_EQ(waiting_capture_to_drop({T::oom, T::oom}), 0u);
}
