#include "agg_slots.h"

#include <gtest/gtest.h>

#include <vector>

using namespace slableak;

namespace {

slk_agg_key key(uint64_t epoch, uint32_t stack, uint16_t cache = 0, uint8_t task = 0) {
  slk_agg_key k{};
  k.epoch = epoch;
  k.stack_id = stack;
  k.cache_idx = cache;
  k.epoch_shift = SLK_EPOCH_MIN_SHIFT;
  k.task_slot = task;
  return k;
}

// What the kernel leaves in a slot it claimed for @k and counted @allocs in.
slk_agg_slot held(const slk_agg_key& k, uint64_t allocs) {
  slk_agg_slot s{};
  s.key = k;
  s.allocs = allocs;
  s.tag = 0x1234567 | 1;
  return s;
}

TEST(AggSlots, AKeyInTwoSlotsIsOneRowWithBothCounts) {
  // Two CPUs that added the same key at once took a slot each.
  std::vector<slk_agg_slot> t(8);
  t[1] = held(key(7, 42), 3);
  t[5] = held(key(7, 42), 2);
  t[6] = held(key(7, 43, 1), 9);
  AggSlots h;
  collect_agg_slots(t.data(), t.size(), 0, h);
  const std::vector<AggRow> rows = agg_rows_of(h);
  ASSERT_EQ(rows.size(), 2u);
  const AggSlots::Held& a = h.by_key.at(key(7, 42));
  EXPECT_EQ(a.allocs, 5u);
  EXPECT_EQ(a.slots, (std::vector<uint32_t>{1, 5}));
  for (const AggRow& r : rows) {
    EXPECT_EQ(r.val.allocs, r.key.stack_id == 42 ? 5u : 9u);
    EXPECT_EQ(r.val.objects, 0);  // from the live table, not from here
  }
}

TEST(AggSlots, SlotsBeingClaimedOrFreeAreNotRows) {
  std::vector<slk_agg_slot> t(4);
  t[0] = held(key(7, 42), 0);  // claimed, key written, nothing counted yet
  t[1].tag = 0x99 | 1;          // claimed, key not written yet
  t[2] = held(key(7, 42), 4);
  t[2].tag = 0;                 // freed by userspace while a late add landed
  AggSlots h;
  collect_agg_slots(t.data(), t.size(), 0, h);
  EXPECT_TRUE(h.by_key.empty());
}

TEST(AggSlots, WindowsGiveTableIndicesAndFreedSlotsStartFromZero) {
  std::vector<slk_agg_slot> t(4);
  t[3] = held(key(9, 1, 2, 5), 6);
  AggSlots h;
  collect_agg_slots(t.data(), t.size(), 32768, h);  // the second window
  EXPECT_EQ(h.by_key.at(key(9, 1, 2, 5)).slots, (std::vector<uint32_t>{32771}));
  free_agg_slot(t[3]);
  EXPECT_EQ(t[3].tag, 0u);
  EXPECT_EQ(t[3].allocs, 0u);  // the next key to claim it counts from zero
  EXPECT_EQ(t[3].key.stack_id, 0u);
  AggSlots again;
  collect_agg_slots(t.data(), t.size(), 32768, again);
  EXPECT_TRUE(again.by_key.empty());
}

TEST(AggSlots, TableHasTwiceTheSlotsAsked) {
  EXPECT_EQ(agg_slot_count_for(65536), 131072u);
  EXPECT_EQ(agg_slot_count_for(1), 2u * SLK_AGG_PROBES);  // every probe of a key is a slot of its own
}

}  // namespace
