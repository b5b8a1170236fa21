// Where the kernel keeps the aggregates in the array table
// (bpf/agg_table.h), userspace reads its slots in place: each slot counts
// the allocations of one aggregate key, and a key may hold more than one
// slot (two CPUs that added it at once). Pure: the caller hands in the
// slots' memory (mmapped), so it is tested without a kernel.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "kernel_read.h"
#include "live_tally.h"

namespace slableak {

struct AggSlots {
  struct Held {
    uint64_t allocs = 0;
    std::vector<uint32_t> slots;  // indices in the table, for retiring the key
  };
  std::unordered_map<slk_agg_key, Held, AggKeyHash, AggKeyEq> by_key;
};

// Slots for @max_aggregates keys: twice as many, so that open addressing
// (SLK_AGG_PROBES slots from a key's home) refuses a key only long after
// that many are held.
uint64_t agg_slot_count_for(uint64_t max_aggregates);

// Adds the slots @first .. @first + @count - 1 of the table, whose memory
// is @slots, to @out. A slot counts once its allocation count is non-zero:
// the kernel writes the key before it counts the first allocation, so a
// slot still being claimed (its key half-written) is left for the next
// read. The count is read before the key for that reason.
void collect_agg_slots(const slk_agg_slot* slots, size_t count, uint32_t first, AggSlots& out);

// One row per key (allocations only: objects, bytes and frees come from
// the live table, apply_live_counts()).
std::vector<AggRow> agg_rows_of(const AggSlots& held);

// Frees a slot of a retired key, in the order the kernel's claim needs:
// allocations and key zeroed before the tag, so that a CPU that claims it
// next starts from zero.
void free_agg_slot(slk_agg_slot& s);

}  // namespace slableak
