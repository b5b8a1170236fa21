#include "live_tally.h"

namespace slableak {

size_t AggKeyHash::operator()(const slk_agg_key& k) const {
  uint64_t h = k.epoch * 0x9E3779B97F4A7C15ULL;
  h ^= (uint64_t{k.stack_id} << 32 | uint64_t{k.cache_idx} << 16 | uint64_t{k.epoch_shift} << 8 | k.task_slot) +
       0x7F4A7C15ULL + (h << 6) + (h >> 2);
  return static_cast<size_t>(h);
}

bool AggKeyEq::operator()(const slk_agg_key& a, const slk_agg_key& b) const {
  return a.epoch == b.epoch && a.stack_id == b.stack_id && a.cache_idx == b.cache_idx &&
         a.epoch_shift == b.epoch_shift && a.task_slot == b.task_slot;
}

slk_agg_key agg_key_of_live(const slk_live& e) {
  slk_agg_key k{};
  const unsigned widen = (e.epoch_shift - SLK_EPOCH_MIN_SHIFT) & 63u;
  k.epoch = widen >= 32 ? 0 : uint64_t{e.alloc_epoch} >> widen;
  k.stack_id = e.stack_id;
  k.cache_idx = e.cache_idx;
  k.epoch_shift = e.epoch_shift;
  k.task_slot = e.task_slot;
  return k;
}

LiveCounts count_live(const LiveTable& table) {
  LiveCounts out;
  count_live(table, out);
  return out;
}

void count_live(const LiveTable& table, LiveCounts& out) {
  // Consecutive entries of one key are common (a leak fills the table in
  // allocation order): the last key is compared before hashing.
  slk_agg_key last{};
  LiveCount* last_count = nullptr;
  for (size_t b = 0; b < table.bucket_count; ++b) {
    const LiveBucket& bk = table.buckets[b];
    for (size_t i = 0; i < SLK_LIVE_WAYS; ++i) {
      if (!bk.key[i]) continue;
      ++out.entries;
      const slk_live e = table.values[b * SLK_LIVE_WAYS + i];
      const slk_agg_key k = agg_key_of_live(e);
      if (!last_count || !AggKeyEq{}(last, k)) {
        last = k;
        last_count = &out.by_key[k];  // node-based: the pointer stays valid
      }
      last_count->objects += 1;
      last_count->bytes += e.bytes;
    }
  }
}

uint64_t apply_live_counts(const LiveCounts& counts, std::vector<AggRow>& rows) {
  uint64_t matched = 0;
  for (auto& r : rows) {
    auto it = counts.by_key.find(r.key);
    r.val.objects = it == counts.by_key.end() ? 0 : it->second.objects;
    r.val.bytes = it == counts.by_key.end() ? 0 : it->second.bytes;
    matched += static_cast<uint64_t>(r.val.objects);
    const uint64_t objects = static_cast<uint64_t>(r.val.objects);
    r.val.frees = r.val.allocs > objects ? r.val.allocs - objects : 0;
  }
  return counts.entries - matched;
}

}  // namespace slableak
