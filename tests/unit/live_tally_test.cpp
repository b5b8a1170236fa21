#include "live_tally.h"

#include <gtest/gtest.h>

#include <vector>

using namespace slableak;

namespace {

// A table of @buckets buckets, all slots free.
struct Table {
  std::vector<LiveBucket> buckets;
  std::vector<slk_live> values;
  explicit Table(size_t n) : buckets(n), values(n * SLK_LIVE_WAYS) {}
  void put(size_t bucket, size_t way, uint64_t ptr, const slk_live& v) {
    buckets[bucket].key[way] = ptr;
    values[bucket * SLK_LIVE_WAYS + way] = v;
  }
  LiveTable view() const { return {buckets.data(), values.data(), buckets.size()}; }
};

slk_live entry(uint32_t alloc_epoch, uint32_t stack, uint16_t cache, uint8_t shift, uint32_t bytes,
               uint8_t task = 0) {
  slk_live e{};
  e.alloc_epoch = alloc_epoch;
  e.stack_id = stack;
  e.cache_idx = cache;
  e.epoch_shift = shift;
  e.bytes = bytes;
  e.task_slot = task;
  return e;
}

AggRow row_for(const slk_live& e, uint64_t allocs) {
  AggRow r{};
  r.key = agg_key_of_live(e);
  r.val.allocs = allocs;
  return r;
}

}  // namespace

TEST(LiveTally, EntryKeyIsTheKernelsAggregateKey) {
  // alloc_epoch is in 2^30 ns units; a key at shift 33 is 8 of them wide.
  const slk_agg_key k = agg_key_of_live(entry(1000, 7, 2, 33, 2048, 5));
  EXPECT_EQ(k.epoch, 1000u >> 3);
  EXPECT_EQ(k.stack_id, 7u);
  EXPECT_EQ(k.cache_idx, 2u);
  EXPECT_EQ(k.epoch_shift, 33u);
  EXPECT_EQ(k.task_slot, 5u);
  EXPECT_EQ(agg_key_of_live(entry(1000, 7, 2, 30, 2048)).epoch, 1000u);
}

TEST(LiveTally, CountsEveryEntryUnderItsKeyAndDerivesFrees) {
  Table t(4);
  const slk_live a = entry(100, 1, 0, 30, 2048), b = entry(100, 2, 0, 30, 1024);
  const slk_live a_later = entry(101, 1, 0, 30, 2048);
  t.put(0, 0, 0xffff888000001000, a);
  t.put(0, 6, 0xffff888000002000, a);
  t.put(3, 3, 0xffff888000003000, a);  // last bucket, middle slot
  t.put(1, 0, 0xffff888000004000, b);
  t.put(2, 1, 0xffff888000005000, a_later);
  // A value left behind by a freed slot is not counted: its key is 0.
  t.values[2 * SLK_LIVE_WAYS + 2] = b;

  const LiveCounts counts = count_live(t.view());
  EXPECT_EQ(counts.entries, 5u);
  std::vector<AggRow> rows = {row_for(a, 10), row_for(b, 1), row_for(a_later, 1), row_for(entry(99, 3, 0, 30, 8), 4)};
  rows[3].val.objects = 4;  // stale kernel figures are replaced, not added to
  EXPECT_EQ(apply_live_counts(counts, rows), 0u);
  EXPECT_EQ(rows[0].val.objects, 3);
  EXPECT_EQ(rows[0].val.bytes, 3 * 2048);
  EXPECT_EQ(rows[0].val.frees, 7u);
  EXPECT_EQ(rows[1].val.objects, 1);
  EXPECT_EQ(rows[1].val.frees, 0u);
  EXPECT_EQ(rows[2].val.objects, 1);
  EXPECT_EQ(rows[3].val.objects, 0);
  EXPECT_EQ(rows[3].val.bytes, 0);
  EXPECT_EQ(rows[3].val.frees, 4u);
}

TEST(LiveTally, EntriesWithoutARowAreReportedNotCounted) {
  Table t(2);
  const slk_live a = entry(100, 1, 0, 30, 2048);
  t.put(0, 0, 0x1000, a);
  t.put(1, 0, 0x2000, entry(100, 9, 0, 30, 2048));  // a slot being rewritten
  std::vector<AggRow> rows = {row_for(a, 1)};
  EXPECT_EQ(apply_live_counts(count_live(t.view()), rows), 1u);
  EXPECT_EQ(rows[0].val.objects, 1);
  EXPECT_EQ(rows[0].val.frees, 0u);
}

TEST(LiveTally, FreesNeverGoNegative) {
  // A row read before an entry it counts (the wrong order) must not wrap.
  Table t(1);
  const slk_live a = entry(100, 1, 0, 30, 64);
  t.put(0, 0, 0x1000, a);
  t.put(0, 1, 0x2000, a);
  std::vector<AggRow> rows = {row_for(a, 1)};
  apply_live_counts(count_live(t.view()), rows);
  EXPECT_EQ(rows[0].val.objects, 2);
  EXPECT_EQ(rows[0].val.frees, 0u);
}
