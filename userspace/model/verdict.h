// The verdict on one stack: is it the leak? Judged from what the aggregation
// already keeps (the history of outstanding objects over the growth window,
// the oldest object's age, allocations and frees), so a reader does not have
// to weigh bytes, age and growth by eye. Rules and thresholds, with why:
// docs/verdicts.md. Pure: no BPF, no syscalls.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace slableak {

enum class Verdict : uint8_t {
  leaking,  // keeps growing, and the old objects never come back
  pool,     // grew, then flat; objects old
  churn,    // objects come and go; outstanding bounded and young
  unsure,   // too little data, or the signs disagree (the evidence says which)
};
inline constexpr Verdict kVerdicts[] = {Verdict::leaking, Verdict::pool, Verdict::churn, Verdict::unsure};
const char* verdict_name(Verdict v);  // "leaking", "pool", "churn", "unsure"

// Thresholds (docs/verdicts.md says why each is what it is).
struct VerdictRules {
  double min_history_s = 20;     // history span needed before judging growth
  size_t min_reads = 4;          // reads in that span (3 intervals at least)
  size_t intervals = 10;         // the span is cut into this many intervals
  double old_fraction = 0.5;     // "old": oldest object >= this part of the span
  double steady_fraction = 0.7;  // "keeps growing": grew in at least this part of the intervals
  double recent_fraction = 1.0 / 3;  // the recent part of the span: a leak still sets new highs there
  double high_tolerance = 0.02;  // a new high must beat the earlier one by this part of it
};

// Outstanding objects at one read (seconds, monotonic).
struct HistoryPoint {
  double t = 0;
  double objects = 0;
};

struct VerdictInput {
  std::vector<HistoryPoint> history;  // oldest first; the growth window at most
  int64_t objects = 0;                // outstanding now
  uint64_t allocs = 0;                // since start
  uint64_t frees = 0;
  double oldest_age_s = 0;
  double growth_bytes_per_s = 0;
  uint32_t sample_every = 1;  // counts are multiples of it: the smallest change seen
};

struct VerdictResult {
  Verdict verdict = Verdict::unsure;
  std::string evidence;      // in words and numbers
  size_t intervals = 0;      // intervals the history was cut into
  size_t grew = 0;           // of those, intervals in which outstanding grew
  double history_s = 0;      // span of the history judged
  double needs_s = 0;        // unsure for lack of history: seconds still missing
};

VerdictResult judge(const VerdictInput& in, const VerdictRules& rules = {});

// The rules for a run of @run_s seconds (`snapshot --duration`; 0: no end
// known). The history needed is at most half the run: the first read comes
// a second or two after the start, so a 20 s snapshot has about 18 s of
// history and could never reach the 20 s of an open-ended run.
VerdictRules rules_for_run(double run_s);

}  // namespace slableak
