#include "agg_slots.h"

#include <algorithm>

namespace slableak {

uint64_t agg_slot_count_for(uint64_t max_aggregates) {
  return std::max<uint64_t>(2 * max_aggregates, 2 * SLK_AGG_PROBES);
}

void collect_agg_slots(const slk_agg_slot* slots, size_t count, uint32_t first, AggSlots& out) {
  for (size_t i = 0; i < count; ++i) {
    const slk_agg_slot& s = slots[i];
    const uint64_t allocs = __atomic_load_n(&s.allocs, __ATOMIC_ACQUIRE);
    if (allocs == 0 || __atomic_load_n(&s.tag, __ATOMIC_RELAXED) == 0) continue;
    slk_agg_key k{};
    k.epoch = __atomic_load_n(&s.key.epoch, __ATOMIC_RELAXED);
    k.stack_id = __atomic_load_n(&s.key.stack_id, __ATOMIC_RELAXED);
    k.cache_idx = __atomic_load_n(&s.key.cache_idx, __ATOMIC_RELAXED);
    k.epoch_shift = __atomic_load_n(&s.key.epoch_shift, __ATOMIC_RELAXED);
    k.task_slot = __atomic_load_n(&s.key.task_slot, __ATOMIC_RELAXED);
    AggSlots::Held& h = out.by_key[k];
    h.allocs += allocs;
    h.slots.push_back(first + static_cast<uint32_t>(i));
  }
}

std::vector<AggRow> agg_rows_of(const AggSlots& held) {
  std::vector<AggRow> rows;
  rows.reserve(held.by_key.size());
  for (const auto& [key, h] : held.by_key) {
    AggRow r{};
    r.key = key;
    r.val.allocs = h.allocs;
    rows.push_back(r);
  }
  return rows;
}

void free_agg_slot(slk_agg_slot& s) {
  __atomic_store_n(&s.allocs, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&s.key.epoch, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&s.key.stack_id, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&s.key.cache_idx, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&s.key.epoch_shift, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&s.key.task_slot, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&s.tag, 0, __ATOMIC_RELEASE);
}

}  // namespace slableak
