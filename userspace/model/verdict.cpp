#include "verdict.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "units.h"

namespace slableak {
namespace {

std::string count_text(double v) {
  char buf[32];
  if (v < 10000) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (v < 1e6) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else if (v < 1e9) std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
  else std::snprintf(buf, sizeof buf, "%.1fG", v / 1e9);
  return buf;
}

// "0.1% of 1.2k allocations freed": how much of what the stack allocated
// came back. One decimal; never rounds a partial return up to 100%.
std::string freed_text(uint64_t allocs, uint64_t frees) {
  if (allocs == 0) return "no allocations seen";
  double pct = 100.0 * static_cast<double>(frees) / static_cast<double>(allocs);
  if (frees < allocs) pct = std::min(pct, 99.9);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", pct);
  return std::string(buf) + " of " + count_text(static_cast<double>(allocs)) + " allocations freed";
}

// Outstanding objects at time @t: the last read at or before it.
double value_at(const std::vector<HistoryPoint>& h, double t) {
  double v = h.front().objects;
  for (const auto& p : h) {
    if (p.t > t + 1e-9) break;
    v = p.objects;
  }
  return v;
}

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::leaking: return "leaking";
    case Verdict::pool: return "pool";
    case Verdict::churn: return "churn";
    case Verdict::unsure: return "unsure";
  }
  return "unsure";
}

VerdictRules rules_for_run(double run_s) {
  VerdictRules r;
  if (run_s > 0) r.min_history_s = std::min(r.min_history_s, run_s / 2);
  return r;
}

VerdictResult judge(const VerdictInput& in, const VerdictRules& rules) {
  VerdictResult r;
  const auto& h = in.history;
  const std::string freed = freed_text(in.allocs, in.frees);
  const std::string oldest = "oldest " + format_duration(in.oldest_age_s);

  // Nothing held: whatever the history, every object came back.
  if (in.objects <= 0) {
    r.verdict = Verdict::churn;
    r.evidence = "nothing outstanding, " + freed;
    return r;
  }

  const size_t n = h.size();
  const double span = n >= 2 ? h.back().t - h.front().t : 0;
  r.history_s = span;
  if (n < rules.min_reads || span < rules.min_history_s) {
    double needs = std::max(0.0, rules.min_history_s - span);
    if (n >= 2 && n < rules.min_reads)
      needs = std::max(needs, static_cast<double>(rules.min_reads - n) * span / static_cast<double>(n - 1));
    if (needs <= 0) needs = 1;  // enough time, too few reads, spacing unknown
    r.needs_s = std::ceil(needs);
    r.verdict = Verdict::unsure;
    r.evidence = "needs " + format_duration(r.needs_s) + " more history (" + format_duration(span) + " of " +
                 format_duration(rules.min_history_s) + " so far), " + oldest;
    return r;
  }

  // Growth per interval: the span cut into equal intervals, outstanding
  // objects compared at their ends.
  const size_t k = std::min(rules.intervals, n - 1);
  r.intervals = k;
  const double t0 = h.front().t;
  double prev = value_at(h, t0);
  for (size_t i = 1; i <= k; ++i) {
    const double v = i == k ? h.back().objects : value_at(h, t0 + span * static_cast<double>(i) / static_cast<double>(k));
    if (v > prev) ++r.grew;
    prev = v;
  }

  // Is it still setting new highs? The recent part of the span against
  // everything before it.
  const double recent_from = h.back().t - rules.recent_fraction * span;
  double max_before = -1, max_recent = -1, peak = 0;
  for (const auto& p : h) {
    double& m = p.t < recent_from ? max_before : max_recent;
    m = std::max(m, p.objects);
    peak = std::max(peak, p.objects);
  }
  const double tol = std::max(static_cast<double>(std::max<uint32_t>(in.sample_every, 1)),
                              rules.high_tolerance * std::max(max_before, 0.0));
  const bool new_high = max_before >= 0 && max_recent > max_before + tol;
  const bool old = in.oldest_age_s >= rules.old_fraction * span;
  const bool steady = static_cast<double>(r.grew) >= rules.steady_fraction * static_cast<double>(k);

  const std::string grew = "grew in " + std::to_string(r.grew) + " of " + std::to_string(k) + " intervals";
  if (old && new_high && steady) {
    r.verdict = Verdict::leaking;
    r.evidence = grew + ", +" + format_bytes(std::max(0.0, in.growth_bytes_per_s)) + "/s, " + oldest + ", " + freed;
    return r;
  }
  if (old && !new_high) {
    // Flat since it first came within the tolerance of its peak.
    double reached = h.back().t;
    for (const auto& p : h)
      if (p.objects >= peak - tol) {
        reached = p.t;
        break;
      }
    r.verdict = Verdict::pool;
    r.evidence = "grew to " + count_text(peak) + " objects, flat for the last " +
                 format_duration(h.back().t - reached) + ", " + oldest + ", " + freed;
    return r;
  }
  if (!old && !(new_high && steady)) {
    double low = peak;
    for (const auto& p : h) low = std::min(low, p.objects);
    r.verdict = Verdict::churn;
    r.evidence = oldest + " in " + format_duration(span) + " of history, outstanding " + count_text(low) + ".." +
                 count_text(peak) + ", " + freed;
    return r;
  }
  r.verdict = Verdict::unsure;
  if (old)  // new highs, but only now and then
    r.evidence = "new highs in the last " + format_duration(rules.recent_fraction * span) + " but " + grew +
                 " (bursts?), " + oldest + ", " + freed;
  else  // growing, yet every object is young
    r.evidence = grew + " but " + oldest + " of " + format_duration(span) +
                 " of history (a backlog that drains, or a leak that began recently), " + freed;
  return r;
}

}  // namespace slableak
