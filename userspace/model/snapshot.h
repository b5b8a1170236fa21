// The report model: one plain value that flows from aggregation to every
// output (table, JSON, folded, Prometheus).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "frame_list.h"
#include "program_runs.h"
#include "tracer_counters.h"
#include "verdict.h"

namespace slableak {

// Coarse age classes of outstanding objects; upper bounds in seconds.
inline constexpr std::array<double, 6> kAgeBounds = {10, 60, 600, 3600, 21600, 86400};
inline constexpr size_t kAgeBuckets = kAgeBounds.size() + 1;  // last is +Inf
// Label for bucket i: "10s", "1m", ..., "+Inf" (objects younger than the bound).
std::string age_bucket_label(size_t i);

struct StackReport {
  std::string cache;      // the kernel's name
  std::string requested;  // what selected the cache (CacheHeader::requested)
  std::string task;       // --by: who allocated ("other" past --by-limit); "" without --by
  std::string stack_id;                // stable digest of the frames
  std::string stack_fn_id;             // digest of the function names alone: stable across kernel builds
  FrameList frames;                    // innermost first
  FrameList functions;                 // frames without offsets (folded output)
  int64_t objects = 0;                 // outstanding (scaled when sampling)
  int64_t bytes = 0;
  uint64_t allocs = 0;  // seen since start (scaled)
  uint64_t frees = 0;
  double oldest_age_s = 0;                       // oldest outstanding object
  std::array<int64_t, kAgeBuckets> age_objects{};  // outstanding objects per age class
  double growth_objects_per_s = 0;               // least-squares slope over the window
  double growth_bytes_per_s = 0;
  Verdict verdict = Verdict::unsure;   // is this the leak? (verdict.h)
  std::string verdict_evidence;        // why, in words and numbers
};

struct CacheHeader {
  std::string name;       // as the kernel names it (/proc/slabinfo, kmem_cache->name)
  std::string requested;  // the --cache argument(s) that selected it
  std::string family;     // glob or random-kmalloc family it was followed as; "" if alone
  std::string merged_as;  // merged names asked for and followed through this cache
  std::vector<std::string> shares_with;  // all names SLUB merged into this cache
  bool named = false;     // a named cache (kmem_cache_alloc), not kmalloc
  uint32_t object_size = 0;
  bool in_slabinfo = false;
  int64_t slab_active_start = 0;  // /proc/slabinfo active_objs at start
  int64_t slab_active_now = 0;
  int64_t attributed_objects = 0;  // outstanding objects slableak holds for it
  int64_t attributed_bytes = 0;
  // Allocations and frees of stacks retired for being idle (scaled): kept
  // here so the per-cache totals never go down.
  uint64_t retired_allocs = 0;
  uint64_t retired_frees = 0;
  // Objects retired when their address came back: freed with no event (scaled when sampling).
  uint64_t implicit_frees = 0;
  // Why the outstanding counts may be too high (upper_bound.h); empty: exact.
  std::vector<std::string> upper_bound_reasons;
  bool upper_bound() const { return !upper_bound_reasons.empty(); }
  // attributed / slab delta; meaningful when the delta is positive.
  double explained_ratio() const;
};

struct TracerHealth {
  TracerCounters counters;    // every counter of SLK_TRACER_COUNTERS
  uint64_t live_objects = 0;  // entries in the live map
  uint64_t live_capacity = 0;
  uint64_t agg_entries = 0;
  uint64_t agg_capacity = 0;
  uint64_t stack_entries = 0;
  uint64_t stack_capacity = 0;
  uint64_t kernel_map_bytes = 0;
  // Free events the kernel did not deliver since attach (a BPF program was
  // already running on that CPU): part of counters[recursion_misses], and
  // each one an object that looks held until its address is reused.
  uint64_t missed_frees = 0;
  // The kernel's recursion_misses per loaded program (program_runs.h); their
  // sum is counters[recursion_misses].
  std::vector<ProgramRuns> programs;
};

struct Snapshot {
  double unix_time = 0;     // when the report was taken
  double elapsed_s = 0;     // since slableak attached
  std::string method;       // "kfunc", "slab" or "derived"
  std::string arch;         // "x86_64" or "arm64" (userspace/model/target_arch.h)
  std::string kernel_release;  // uname -r of the traced kernel
  // "on", or "off: <why>" (--no-stack-cache, or not proven on this architecture)
  std::string stack_fingerprints;
  uint32_t sample_every = 1;
  bool estimated() const { return sample_every > 1; }
  std::string by;  // --by: "comm", "pid", "cgroup"; "" when stacks are not split by task
  std::vector<CacheHeader> caches;
  std::vector<StackReport> stacks;  // sorted as requested
  TracerHealth health;
  // Collections since start whose read of /proc/slabinfo failed or lacked a
  // followed cache (the slabinfo comparison is then missing), and why the
  // latest one did ("" if it was fine).
  uint64_t slabinfo_errors = 0;
  std::string slabinfo_error;
};

std::string method_description(const std::string& method);
// The run's method as reports state it: method_description, plus how
// kmalloc-large was told apart when it is followed (by size, whatever the
// method: its objects are in no slab cache to name).
std::string method_description(const Snapshot& s);

// A glob or random-kmalloc family: the sum over its member caches.
struct FamilyTotal {
  std::string name;
  std::vector<std::string> members;
  int64_t attributed_objects = 0;
  int64_t attributed_bytes = 0;
  int64_t slab_delta = 0;  // summed over members listed in /proc/slabinfo
};
// In the order the families first appear among s.caches.
std::vector<FamilyTotal> family_totals(const Snapshot& s);

}  // namespace slableak
