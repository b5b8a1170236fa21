// Folds the kernel's per (stack, cache, epoch) rows into one row per
// (cache, symbolized stack): outstanding objects and bytes, allocations and
// frees since start, ages and growth. Pure: no BPF, no syscalls.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "growth.h"
#include "kernel_read.h"
#include "snapshot.h"
#include "verdict.h"
#include "symbolizer.h"

namespace slableak {

// verdict (the default): stacks judged leaking first, then by bytes.
enum class SortKey { verdict, bytes, objects, age, growth };
SortKey parse_sort_key(const std::string& s);  // throws a usage Error

// Age of the objects counted in @key at @now_ns, in seconds: measured to the
// middle of the epoch, so it is within half an epoch width of the truth.
double epoch_age_seconds(const slk_agg_key& key, uint64_t now_ns);
// Age class index (0 .. kAgeBuckets-1) of an age in seconds.
size_t age_bucket_of(double age_s);
// Epoch width the kernel should use after @elapsed_s of running: about 1/32
// of the run, between 1 s and 18 min, so a leaking stack holds a few dozen
// keys per doubling of run time and ages stay within ~3% of the run.
uint32_t epoch_shift_for(double elapsed_s);

class Aggregator {
 public:
  using Resolve = std::function<const SymbolizedStack&(uint32_t stack_id)>;

  Aggregator(std::vector<std::string> cache_names, uint32_t sample_every, double growth_window_s);

  // Builds the stacks of a report from one kernel read. Returns, in
  // @retire, the keys of past epochs with nothing outstanding: the caller
  // deletes them from the kernel map; their totals are kept here.
  // Objects younger than @min_age_s are left out of the outstanding counts.
  // With @retire_stacks, also returns the kernel stack ids that are idle
  // (see set_stack_idle): the caller deletes them from the kernel (stack
  // store, fingerprints) and forgets their frames; their totals move to the
  // cache's remainder (retired_totals) so that every counter stays monotonic.
  std::vector<StackReport> ingest(const KernelRead& read, const Resolve& resolve,
                                  std::vector<slk_agg_key>* retire, double min_age_s = 0,
                                  std::vector<uint32_t>* retire_stacks = nullptr);

  // A kernel stack is idle once it has no aggregate key left in the kernel
  // (nothing outstanding, every epoch over) and its allocation count has not
  // moved for @idle_s; a stored stack no aggregate refers to is idle @idle_s
  // after it was first seen. Idle stacks are retired when ingest is given
  // @retire_stacks. Default: never.
  void set_stack_idle(double idle_s) { stack_idle_s_ = idle_s; }
  // --by: rows are split by the task slot of the keys and named from
  // KernelRead::task_names (slot 0: "other"). Off: every slot is 0.
  void set_by_task(bool on) { by_task_ = on; }
  // The rules each stack is judged by (default: an open-ended run).
  void set_verdict_rules(const VerdictRules& rules) { verdict_rules_ = rules; }

  // Totals per cache of the last ingest, by cache index.
  const std::vector<std::pair<int64_t, int64_t>>& cache_totals() const { return cache_totals_; }
  // Allocations and frees (unscaled) of the retired stacks, by cache index.
  std::pair<uint64_t, uint64_t> retired_totals(size_t cache_idx) const;
  // Kernel stack ids with state here (history or an idle clock): bounded by
  // the stacks alive, not the stacks ever seen.
  size_t stacks_tracked() const { return stack_clock_.size(); }
  uint64_t stacks_retired() const { return stacks_retired_; }

 private:
  // Rows are folded by cache *name*: the first index with the same name, or
  // past the names for an index without one ("cache#N").
  uint32_t cache_key(uint16_t cache_idx) const;
  std::string cache_name(uint16_t cache_idx) const;

  std::vector<std::string> cache_names_;
  std::vector<uint32_t> cache_key_;  // by cache index
  uint32_t sample_every_;
  VerdictRules verdict_rules_;
  GrowthTracker growth_;
  // allocs/frees of retired keys, per (cache index, task slot, kernel stack id)
  std::map<std::tuple<uint16_t, uint8_t, uint32_t>, std::pair<uint64_t, uint64_t>> retired_;
  bool by_task_ = false;
  struct StackSeen {  // one ingest's view of a kernel stack id
    uint64_t allocs = 0;  // in kept keys and retired history
    bool has_keys = false;
  };
  void retire_idle_stacks(const KernelRead& read, double now_s, std::unordered_map<uint32_t, StackSeen>& seen,
                          std::vector<uint32_t>* retire_stacks);

  // Per kernel stack id: its allocation count when last seen and when that
  // count last moved (or when the stack was first seen).
  struct StackClock {
    uint64_t allocs = 0;
    double since_s = 0;
  };
  std::unordered_map<uint32_t, StackClock> stack_clock_;
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> remainder_;  // by cache key: allocs, frees
  double stack_idle_s_ = -1;  // < 0: never retire stacks
  uint64_t stacks_retired_ = 0;
  std::vector<std::pair<int64_t, int64_t>> cache_totals_;  // objects, bytes
  double last_ingest_s_ = -1;  // a stack first seen now had nothing outstanding then
  size_t last_rows_ = 0;       // rows of the last ingest: the next one reserves as much
};

// The figure @key orders by (largest first); an empty stack's age is -1.
double sort_value(const StackReport& s, SortKey key);
void sort_stacks(std::vector<StackReport>& stacks, SortKey key);

}  // namespace slableak
