// The verdict rules on synthetic histories: one read a second (as
// `snapshot` reads) or every 15 s (as the exporter does).
#include "verdict.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

using namespace slableak;

namespace {

// Reads every @step seconds over @span seconds; outstanding objects from @f(t).
std::vector<HistoryPoint> history(double span, double step, const std::function<double(double)>& f) {
  std::vector<HistoryPoint> h;
  for (double t = 0; t <= span + 1e-9; t += step) h.push_back({100 + t, std::floor(f(t))});
  return h;
}

VerdictInput input(std::vector<HistoryPoint> h, double oldest, uint64_t allocs, uint64_t frees) {
  VerdictInput in;
  in.history = std::move(h);
  in.objects = static_cast<int64_t>(in.history.empty() ? 0 : in.history.back().objects);
  in.oldest_age_s = oldest;
  in.allocs = allocs;
  in.frees = frees;
  in.growth_bytes_per_s = 20 * 2048;
  return in;
}

}  // namespace

TEST(Verdict, PacedLeakIsLeaking) {
  // 20 objects/s for 60 s, nothing freed: the paced leak of the integration test.
  const auto r = judge(input(history(60, 1, [](double t) { return 20 * t; }), 60, 1200, 0));
  EXPECT_EQ(r.verdict, Verdict::leaking) << r.evidence;
  EXPECT_EQ(r.intervals, 10u);
  EXPECT_EQ(r.grew, 10u);
  EXPECT_EQ(r.evidence, "grew in 10 of 10 intervals, +40.0 KiB/s, oldest 1m00s, 0.0% of 1200 allocations freed");
}

// The history rule fits the run: a 20 s snapshot reads first a second or two
// after the start, so its history spans about 18 s.
TEST(Verdict, HistoryRuleFitsTheRun) {
  EXPECT_EQ(rules_for_run(0).min_history_s, 20);    // open-ended: top, export, run
  EXPECT_EQ(rules_for_run(600).min_history_s, 20);
  EXPECT_EQ(rules_for_run(20).min_history_s, 10);
  EXPECT_EQ(rules_for_run(4).min_history_s, 2);
  const VerdictInput in = input(history(18, 1, [](double t) { return 20 * t; }), 19, 360, 0);
  EXPECT_EQ(judge(in).verdict, Verdict::unsure);
  EXPECT_EQ(judge(in, rules_for_run(20)).verdict, Verdict::leaking) << judge(in, rules_for_run(20)).evidence;
  // A 4 s snapshot reads every 0.4 s.
  const VerdictInput short_run = input(history(3.2, 0.4, [](double t) { return 20 * t; }), 3.5, 64, 0);
  EXPECT_EQ(judge(short_run, rules_for_run(4)).verdict, Verdict::leaking) << judge(short_run, rules_for_run(4)).evidence;
}

TEST(Verdict, LeakHiddenInHeavyChurnIsLeaking) {
  // A busy path that loses 1 in 100: outstanding wobbles by +-30 around a
  // line rising 5/s. Most allocations are freed, yet it is the leak.
  auto wobble = [](double t) { return 200 + 5 * t + 30 * std::sin(t * 2.1); };
  const auto r = judge(input(history(300, 15, wobble), 310, 150000, 148500));
  EXPECT_EQ(r.verdict, Verdict::leaking) << r.evidence;
  EXPECT_NE(r.evidence.find("99.0% of 150.0k allocations freed"), std::string::npos) << r.evidence;
}

TEST(Verdict, PoolThatFilledAndStoppedIsPool) {
  // 200 objects over 10 s, then flat for 50 s.
  const auto r = judge(input(history(60, 1, [](double t) { return std::min(200.0, 20 * t); }), 60, 200, 0));
  EXPECT_EQ(r.verdict, Verdict::pool) << r.evidence;
  EXPECT_EQ(r.evidence, "grew to 200 objects, flat for the last 50s, oldest 1m00s, 0.0% of 200 allocations freed");
}

TEST(Verdict, PoolWithTurnoverAtItsCeilingIsPool) {
  // A cache that keeps about 500 objects and trades some of them: it dips
  // and refills, never above its ceiling. Old objects stay.
  auto f = [](double t) { return t < 30 ? t * 500 / 30 : 500 - 20 * (static_cast<int>(t) % 3); };
  const auto r = judge(input(history(120, 1, f), 118, 900, 400));
  EXPECT_EQ(r.verdict, Verdict::pool) << r.evidence;
}

TEST(Verdict, FastChurnIsChurn) {
  // A few objects in flight at any read, all younger than a second.
  auto f = [](double t) { return static_cast<int>(t + 1) % 4; };
  const auto r = judge(input(history(60, 1, f), 0.5, 2'000'000, 1'999'997));
  EXPECT_EQ(r.verdict, Verdict::churn) << r.evidence;
  EXPECT_EQ(r.evidence, "oldest 500ms in 1m00s of history, outstanding 0..3, 99.9% of 2.0M allocations freed");
}

TEST(Verdict, NothingOutstandingIsChurnWhateverTheHistory) {
  const auto r = judge(input(history(5, 1, [](double) { return 0; }), 0, 42, 42));
  EXPECT_EQ(r.verdict, Verdict::churn);
  EXPECT_EQ(r.evidence, "nothing outstanding, 100.0% of 42 allocations freed");
}

TEST(Verdict, ShortHistoryIsUnsureAndSaysHowLongToWait) {
  const auto r = judge(input(history(8, 1, [](double t) { return 20 * t; }), 8, 160, 0));
  EXPECT_EQ(r.verdict, Verdict::unsure);
  EXPECT_EQ(r.needs_s, 12);
  EXPECT_EQ(r.evidence, "needs 12s more history (8s of 20s so far), oldest 8s");
}

TEST(Verdict, ExporterIntervalNeedsFourReads) {
  // Reads every 15 s: 30 s of span is only 3 reads; one more is needed.
  const auto r = judge(input(history(30, 15, [](double t) { return 20 * t; }), 30, 600, 0));
  EXPECT_EQ(r.verdict, Verdict::unsure);
  EXPECT_EQ(r.needs_s, 15);
  const auto later = judge(input(history(45, 15, [](double t) { return 20 * t; }), 45, 900, 0));
  EXPECT_EQ(later.verdict, Verdict::leaking) << later.evidence;
}

TEST(Verdict, YoungButGrowingIsUnsure) {
  // A backlog: outstanding rises steadily, but nothing is older than 5 s.
  const auto r = judge(input(history(60, 1, [](double t) { return 10 * t; }), 5, 100000, 99400));
  EXPECT_EQ(r.verdict, Verdict::unsure);
  EXPECT_NE(r.evidence.find("a leak that began recently"), std::string::npos) << r.evidence;
}

TEST(Verdict, BurstsOfGrowthAreUnsure) {
  // Flat, with a step up now and then (3 steps in 60 s, the last one recent).
  auto f = [](double t) { return t < 10 ? 100 : t < 30 ? 200 : t < 50 ? 300 : 400; };
  const auto r = judge(input(history(60, 1, f), 60, 400, 0));
  EXPECT_EQ(r.verdict, Verdict::unsure) << r.evidence;
  EXPECT_NE(r.evidence.find("bursts?"), std::string::npos) << r.evidence;
}

TEST(Verdict, OneSampledStepIsNotANewHigh) {
  // Sampling 1 in 64: counts move in steps of 64; a pool that gains one
  // sampled object at the end has not resumed growing.
  auto f = [](double t) { return t < 10 ? 64 * 10 : t < 58 ? 64 * 20 : 64 * 21; };
  VerdictInput in = input(history(60, 1, f), 60, 64 * 21, 0);
  in.sample_every = 64;
  EXPECT_EQ(judge(in).verdict, Verdict::pool) << judge(in).evidence;
}

TEST(Verdict, Names) {
  EXPECT_STREQ(verdict_name(Verdict::leaking), "leaking");
  EXPECT_STREQ(verdict_name(Verdict::pool), "pool");
  EXPECT_STREQ(verdict_name(Verdict::churn), "churn");
  EXPECT_STREQ(verdict_name(Verdict::unsure), "unsure");
}
