// Where the kernel keeps the live set in the array table (bpf/live_table.h),
// the programs count only allocations in the aggregate map: a free touches
// nothing but its own live entry. What is outstanding per aggregate key is
// counted here, from the table's entries, at read time. Pure: the caller
// hands in the table's memory (mmapped read-only), so it is tested without
// a kernel.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "kernel_read.h"

namespace slableak {

// The kernel's bucket layout (bpf/live_table.h), restated for userspace.
struct LiveBucket {
  uint64_t key[SLK_LIVE_WAYS];  // object addresses; 0: free slot
  uint32_t passed;
  uint32_t pad;
};
static_assert(sizeof(LiveBucket) == 64, "struct slk_live_bucket is one cache line");

struct LiveTable {
  const LiveBucket* buckets = nullptr;
  const slk_live* values = nullptr;  // buckets * SLK_LIVE_WAYS, slot b * SLK_LIVE_WAYS + i
  size_t bucket_count = 0;
};

// The aggregate key a live entry is counted in: the kernel's agg_key_of().
slk_agg_key agg_key_of_live(const slk_live& e);

struct AggKeyHash {
  size_t operator()(const slk_agg_key& k) const;
};
struct AggKeyEq {
  bool operator()(const slk_agg_key& a, const slk_agg_key& b) const;
};

struct LiveCount {
  int64_t objects = 0;
  int64_t bytes = 0;
};

// The live entries of @table, counted by aggregate key. Read the table
// before the aggregate rows: the kernel counts an allocation in its row
// before it inserts the entry, so then every entry counted here has its
// allocation in the rows, and frees = allocs - objects never goes below 0.
struct LiveCounts {
  std::unordered_map<slk_agg_key, LiveCount, AggKeyHash, AggKeyEq> by_key;
  uint64_t entries = 0;
};
LiveCounts count_live(const LiveTable& table);
// The same, added to @counts: a table read a window at a time.
void count_live(const LiveTable& table, LiveCounts& counts);

// Sets objects, bytes and frees of every row of @rows from @counts.
// Returns the entries counted under no row's key (a value read while
// another CPU rewrote its slot: left out, as they would be a moment later).
uint64_t apply_live_counts(const LiveCounts& counts, std::vector<AggRow>& rows);

}  // namespace slableak
