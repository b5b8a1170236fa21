#include "aggregation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "error.h"
#include "stack_digest.h"

using namespace slableak;

namespace {

constexpr uint32_t kShift = 30;
constexpr double kWidthS = 1073741824.0 / 1e9;  // 2^30 ns in seconds

uint64_t epoch_ns(uint64_t epoch) { return epoch << kShift; }

AggRow row(uint64_t epoch, uint32_t stack, uint16_t cache, int64_t objects, int64_t bytes, uint64_t allocs,
           uint64_t frees) {
  AggRow r{};
  r.key.epoch = epoch;
  r.key.stack_id = stack;
  r.key.cache_idx = cache;
  r.key.epoch_shift = kShift;
  r.val.objects = objects;
  r.val.bytes = bytes;
  r.val.allocs = allocs;
  r.val.frees = frees;
  return r;
}

// Kernel stack id -> symbolized stack. Ids 1 and 2 symbolize identically
// (the same code path captured twice); 3 and 4 are distinct paths.
struct Stacks {
  std::map<uint32_t, SymbolizedStack> by_id = {
      {1, {{"load_msg+0x5a", "do_msgsnd+0xa1"}, {"load_msg", "do_msgsnd"}}},
      {2, {{"load_msg+0x5a", "do_msgsnd+0xa1"}, {"load_msg", "do_msgsnd"}}},
      {3, {{"alloc_pipe_info+0x10"}, {"alloc_pipe_info"}}},
      {4, {{"seq_read_iter+0x33"}, {"seq_read_iter"}}},
  };
  Aggregator::Resolve resolve() {
    return [this](uint32_t id) -> const SymbolizedStack& { return by_id.at(id); };
  }
};

const StackReport* find(const std::vector<StackReport>& v, const std::string& cache, const std::string& first_frame) {
  for (const auto& s : v)
    if (s.cache == cache && !s.frames.empty() && s.frames.front() == first_frame) return &s;
  return nullptr;
}

bool contains_key(const std::vector<slk_agg_key>& keys, uint64_t epoch, uint32_t stack) {
  return std::any_of(keys.begin(), keys.end(),
                     [&](const slk_agg_key& k) { return k.epoch == epoch && k.stack_id == stack; });
}

}  // namespace

TEST(Aggregation, EpochAgeIsMeasuredToEpochMiddle) {
  slk_agg_key k{};
  k.epoch = 10;
  k.epoch_shift = kShift;
  EXPECT_DOUBLE_EQ(epoch_age_seconds(k, epoch_ns(12)), 1.5 * kWidthS);
  k.epoch_shift = 20;  // 2^20 ns = 1.048576 ms
  EXPECT_DOUBLE_EQ(epoch_age_seconds(k, uint64_t{11} << 20), 0.5 * 1048576 / 1e9);
  k.epoch = 12;
  k.epoch_shift = kShift;
  EXPECT_DOUBLE_EQ(epoch_age_seconds(k, epoch_ns(12)), 0.0);  // before the middle: clamped
}

TEST(Aggregation, AgeBucketBoundaries) {
  EXPECT_EQ(age_bucket_of(0), 0u);
  EXPECT_EQ(age_bucket_of(9.999), 0u);
  EXPECT_EQ(age_bucket_of(10), 1u);
  EXPECT_EQ(age_bucket_of(599.9), 2u);
  EXPECT_EQ(age_bucket_of(3600), 4u);
  EXPECT_EQ(age_bucket_of(86399), 5u);
  EXPECT_EQ(age_bucket_of(86400), 6u);
  EXPECT_EQ(age_bucket_of(1e9), 6u);
}

TEST(Aggregation, EpochShiftFor) {
  EXPECT_EQ(epoch_shift_for(0), 30u);
  EXPECT_EQ(epoch_shift_for(30), 30u);
  EXPECT_EQ(epoch_shift_for(64), 31u);   // 2 s target: 2^31 ns
  EXPECT_EQ(epoch_shift_for(100), 32u);  // 3.1 s target
  EXPECT_EQ(epoch_shift_for(3600), 37u);  // 112.5 s target: 2^37 ns = 137 s
  EXPECT_EQ(epoch_shift_for(1e9), 40u);
  uint32_t prev = 0;
  for (double t = 1; t < 1e7; t *= 1.5) {
    const uint32_t s = epoch_shift_for(t);
    EXPECT_GE(s, prev);
    prev = s;
  }
}

TEST(Aggregation, SumsEpochsAndMergesIdenticalStacks) {
  Stacks st;
  Aggregator agg({"kmalloc-2k", "kmalloc-cg-1k"}, 1, 60);
  KernelRead read;
  read.now_ns = epoch_ns(100);
  read.aggs = {
      row(90, 1, 0, 2, 4096, 5, 3),    // age 9.5 widths = 10.2 s
      row(99, 1, 0, 1, 2048, 1, 0),    // age 0.5 width
      row(95, 2, 0, 4, 8192, 4, 0),    // other kernel id, same frames: same row
      row(95, 3, 0, 1, 2048, 1, 0),    // another path
      row(95, 1, 1, 3, 3072, 3, 0),    // same path, other cache: separate row
  };
  std::vector<slk_agg_key> retire;
  const auto out = agg.ingest(read, st.resolve(), &retire);
  EXPECT_TRUE(retire.empty());
  ASSERT_EQ(out.size(), 3u);
  const StackReport* m = find(out, "kmalloc-2k", "load_msg+0x5a");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->objects, 7);
  EXPECT_EQ(m->bytes, 14336);
  EXPECT_EQ(m->allocs, 10u);
  EXPECT_EQ(m->frees, 3u);
  EXPECT_NEAR(m->oldest_age_s, 9.5 * kWidthS, 1e-9);
  EXPECT_EQ(m->age_objects[0], 5);  // epochs 99 (0.54 s) and 95 (4.8 s)
  EXPECT_EQ(m->age_objects[1], 2);  // epoch 90 (10.2 s)
  EXPECT_EQ(m->stack_id, stack_digest(st.by_id[1].frames.to_vector()));
  EXPECT_EQ(m->functions, st.by_id[1].functions);
  const StackReport* other_cache = find(out, "kmalloc-cg-1k", "load_msg+0x5a");
  ASSERT_NE(other_cache, nullptr);
  EXPECT_EQ(other_cache->objects, 3);
  ASSERT_EQ(agg.cache_totals().size(), 2u);
  EXPECT_EQ(agg.cache_totals()[0], (std::pair<int64_t, int64_t>{8, 16384}));
  EXPECT_EQ(agg.cache_totals()[1], (std::pair<int64_t, int64_t>{3, 3072}));
}

TEST(Aggregation, SampleEveryScales) {
  Stacks st;
  Aggregator agg({"kmalloc-2k"}, 4, 60);
  KernelRead read;
  read.now_ns = epoch_ns(100);
  read.aggs = {row(95, 3, 0, 2, 4096, 5, 3)};
  const auto out = agg.ingest(read, st.resolve(), nullptr);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].objects, 8);
  EXPECT_EQ(out[0].bytes, 16384);
  EXPECT_EQ(out[0].allocs, 20u);
  EXPECT_EQ(out[0].frees, 12u);
  EXPECT_EQ(agg.cache_totals()[0], (std::pair<int64_t, int64_t>{8, 16384}));
}

TEST(Aggregation, RetiresEmptyPastEpochsAndKeepsTheirHistory) {
  Stacks st;
  Aggregator agg({"kmalloc-2k"}, 1, 60);
  const AggRow a = row(50, 3, 0, 0, 0, 7, 7);      // past, empty: retire
  const AggRow b = row(99, 3, 0, 0, 0, 2, 2);      // ended just now: keep
  const AggRow c = row(100, 4, 0, 0, 0, 1, 1);     // current epoch, empty: keep
  const AggRow d = row(60, 4, 0, 3, 6144, 3, 0);   // past, not empty: keep

  KernelRead r1;
  r1.now_ns = epoch_ns(100);
  r1.aggs = {a, b, c, d};
  std::vector<slk_agg_key> retire;
  auto out = agg.ingest(r1, st.resolve(), &retire);
  ASSERT_EQ(retire.size(), 1u);
  EXPECT_TRUE(contains_key(retire, 50, 3));
  const StackReport* s3 = find(out, "kmalloc-2k", "alloc_pipe_info+0x10");
  const StackReport* s4 = find(out, "kmalloc-2k", "seq_read_iter+0x33");
  ASSERT_NE(s3, nullptr);
  ASSERT_NE(s4, nullptr);
  EXPECT_EQ(s3->objects, 0);
  EXPECT_EQ(s3->allocs, 9u);
  EXPECT_EQ(s3->frees, 9u);
  EXPECT_EQ(s4->objects, 3);
  EXPECT_EQ(s4->allocs, 4u);

  // The caller deleted key a. One epoch later b is over too.
  KernelRead r2;
  r2.now_ns = epoch_ns(101);
  r2.aggs = {b, c, d};
  retire.clear();
  out = agg.ingest(r2, st.resolve(), &retire);
  ASSERT_EQ(retire.size(), 1u);
  EXPECT_TRUE(contains_key(retire, 99, 3));
  s3 = find(out, "kmalloc-2k", "alloc_pipe_info+0x10");
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->allocs, 9u);  // 7 from a (retired earlier) + 2 from b
  EXPECT_EQ(s3->frees, 9u);

  // Both gone from the kernel: the stack's history is still reported.
  KernelRead r3;
  r3.now_ns = epoch_ns(101);
  r3.aggs = {c, d};
  retire.clear();
  out = agg.ingest(r3, st.resolve(), &retire);
  EXPECT_TRUE(retire.empty());
  s3 = find(out, "kmalloc-2k", "alloc_pipe_info+0x10");
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->allocs, 9u);
  EXPECT_EQ(s3->frees, 9u);
  s4 = find(out, "kmalloc-2k", "seq_read_iter+0x33");
  ASSERT_NE(s4, nullptr);
  EXPECT_EQ(s4->allocs, 4u);
}

TEST(Aggregation, MinAgeFiltersOutstandingButNotHistory) {
  Stacks st;
  Aggregator agg({"kmalloc-2k"}, 1, 60);
  KernelRead read;
  read.now_ns = epoch_ns(100);
  read.aggs = {row(90, 3, 0, 2, 4096, 2, 0), row(99, 3, 0, 5, 10240, 5, 0)};
  const auto out = agg.ingest(read, st.resolve(), nullptr, 5.0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].objects, 2);
  EXPECT_EQ(out[0].bytes, 4096);
  EXPECT_EQ(out[0].allocs, 7u);
  EXPECT_EQ(agg.cache_totals()[0], (std::pair<int64_t, int64_t>{2, 4096}));
}

TEST(Aggregation, UnavailableStackAndGrowth) {
  Stacks st;
  Aggregator agg({"kmalloc-2k"}, 1, 60);
  auto resolve = [&](uint32_t id) -> const SymbolizedStack& {
    EXPECT_NE(id, SLK_STACK_UNAVAILABLE) << "resolve called for the unavailable id";
    return st.by_id.at(id);
  };
  KernelRead r1;
  r1.now_ns = epoch_ns(100);
  r1.aggs = {row(90, SLK_STACK_UNAVAILABLE, 0, 1, 2048, 1, 0)};
  auto out = agg.ingest(r1, resolve, nullptr);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].frames, std::vector<std::string>{"[stack unavailable]"});
  EXPECT_DOUBLE_EQ(out[0].growth_objects_per_s, 0.0);

  KernelRead r2;
  r2.now_ns = epoch_ns(110);
  r2.aggs = {row(90, SLK_STACK_UNAVAILABLE, 0, 1, 2048, 1, 0), row(105, SLK_STACK_UNAVAILABLE, 0, 2, 4096, 2, 0)};
  out = agg.ingest(r2, resolve, nullptr);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].objects, 3);
  EXPECT_NEAR(out[0].growth_objects_per_s, 2 / (10 * kWidthS), 1e-9);
  EXPECT_NEAR(out[0].growth_bytes_per_s, 4096 / (10 * kWidthS), 1e-6);
}

TEST(Aggregation, ParseSortKey) {
  EXPECT_EQ(parse_sort_key("bytes"), SortKey::bytes);
  EXPECT_EQ(parse_sort_key("growth"), SortKey::growth);
  try {
    parse_sort_key("size");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
  }
}

// A stack that appears between two reads held nothing at the earlier one:
// a leak that shows up all at once still has a growth rate.
TEST(Aggregation, NewStackGrowsFromZeroAtThePreviousRead) {
  Stacks st;
  Aggregator agg({"kmalloc-2k"}, 1, 60);
  KernelRead r1;
  r1.now_ns = epoch_ns(100);
  agg.ingest(r1, st.resolve(), nullptr);  // nothing yet
  KernelRead r2;
  r2.now_ns = epoch_ns(104);
  r2.aggs = {row(102, 3, 0, 400, 400 * 2048, 400, 0)};
  const auto out = agg.ingest(r2, st.resolve(), nullptr);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].growth_objects_per_s, 400 / (4 * kWidthS), 1e-6);
  EXPECT_NEAR(out[0].growth_bytes_per_s, 400 * 2048 / (4 * kWidthS), 1e-3);
}

// sort_stacks sorts keys and then moves each report once; the order must be
// that of a stable sort of the reports themselves (its previous form),
// ties and all: equal rows keep their input order.
TEST(Aggregation, SortStacksIsAStableSortOfTheReports) {
  std::mt19937 rng(5);
  for (SortKey key : {SortKey::bytes, SortKey::objects, SortKey::age, SortKey::growth}) {
    for (size_t n : {0u, 1u, 2u, 7u, 500u}) {
      std::vector<StackReport> in;
      for (size_t i = 0; i < n; ++i) {
        StackReport r;
        r.cache = i % 3 ? "kmalloc-2k" : "kmalloc-cg-2k";
        r.stack_id = std::string(15, '0') + static_cast<char>('a' + rng() % 4);  // few ids: many ties
        r.objects = static_cast<int64_t>(rng() % 4);
        r.bytes = r.objects * 2048 + static_cast<int64_t>(rng() % 2);
        r.oldest_age_s = static_cast<double>(rng() % 3);
        r.growth_bytes_per_s = static_cast<double>(rng() % 3) - 1;
        r.allocs = i;  // identifies the report
        in.push_back(r);
      }
      auto metric = [key](const StackReport& s) { return sort_value(s, key); };
      std::vector<StackReport> expect = in;
      std::stable_sort(expect.begin(), expect.end(), [&](const StackReport& a, const StackReport& b) {
        const double ma = metric(a), mb = metric(b);
        if (ma != mb) return ma > mb;
        if (a.bytes != b.bytes) return a.bytes > b.bytes;
        return a.stack_id < b.stack_id;
      });
      std::vector<StackReport> got = in;
      sort_stacks(got, key);
      ASSERT_EQ(got.size(), expect.size());
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(got[i].allocs, expect[i].allocs) << "key " << static_cast<int>(key) << " n " << n << " at " << i;
        ASSERT_EQ(got[i].cache, expect[i].cache);
        ASSERT_EQ(got[i].stack_id, expect[i].stack_id);
      }
    }
  }
}

namespace slableak {
namespace {

// The verdict is judged from the history the growth tracker keeps: a stack
// that gains 10 objects every epoch and keeps them is leaking; one whose
// objects are all freed within the epoch is churn.
TEST(Aggregation, VerdictsFromTheReadHistory) {
  Stacks st;
  Aggregator agg({"kmalloc-2k"}, 1, 60);
  std::vector<StackReport> out;
  for (uint64_t e = 100; e <= 130; ++e) {
    KernelRead read;
    read.now_ns = epoch_ns(e) + 1;
    for (uint64_t k = 100; k <= e; ++k) read.aggs.push_back(row(k, 1, 0, 10, 20480, 10, 0));
    read.aggs.push_back(row(e, 3, 0, 1, 2048, 1000, 999));  // only the current epoch holds one
    out = agg.ingest(read, st.resolve(), nullptr);
  }
  const StackReport* leak = find(out, "kmalloc-2k", "load_msg+0x5a");
  const StackReport* churn = find(out, "kmalloc-2k", "alloc_pipe_info+0x10");
  ASSERT_NE(leak, nullptr);
  ASSERT_NE(churn, nullptr);
  EXPECT_EQ(leak->verdict, Verdict::leaking) << leak->verdict_evidence;
  EXPECT_EQ(churn->verdict, Verdict::churn) << churn->verdict_evidence;
  EXPECT_EQ(leak->verdict_evidence.rfind("grew in 10 of 10 intervals", 0), 0u) << leak->verdict_evidence;
}

TEST(SortStacks, VerdictPutsLeakingFirstThenBytes) {
  std::vector<StackReport> v(4);
  const Verdict verdicts[] = {Verdict::pool, Verdict::leaking, Verdict::churn, Verdict::leaking};
  const int64_t bytes[] = {900, 10, 500, 20};
  for (size_t i = 0; i < v.size(); ++i) {
    v[i].verdict = verdicts[i];
    v[i].bytes = bytes[i];
    v[i].stack_id = std::to_string(i);
  }
  auto by_verdict = v;
  sort_stacks(by_verdict, SortKey::verdict);
  std::vector<std::string> ids;
  for (const auto& r : by_verdict) ids.push_back(r.stack_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"3", "1", "0", "2"}));
  auto by_bytes = v;
  sort_stacks(by_bytes, SortKey::bytes);  // asked for bytes: bytes only
  ids.clear();
  for (const auto& r : by_bytes) ids.push_back(r.stack_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"0", "2", "3", "1"}));
}

TEST(SortValue, EachKeyReadsItsFigureAndEmptyStacksHaveNoAge) {
  StackReport r;
  r.objects = 3;
  r.bytes = 6144;
  r.oldest_age_s = 42.5;
  r.growth_bytes_per_s = -7;
  EXPECT_EQ(sort_value(r, SortKey::bytes), 6144);
  EXPECT_EQ(sort_value(r, SortKey::objects), 3);
  EXPECT_EQ(sort_value(r, SortKey::age), 42.5);
  EXPECT_EQ(sort_value(r, SortKey::growth), -7);
  r.objects = 0;  // freed since: its last age must not rank it first
  EXPECT_EQ(sort_value(r, SortKey::age), -1);
}

}  // namespace
}  // namespace slableak

// Weeks of turnover: a stack with nothing outstanding and no allocation for
// the idle time is retired; its totals move to the cache's remainder, so the
// per-cache totals never go down, and what is kept per stack is bounded by
// the stacks alive, not by the stacks ever seen.
TEST(Aggregation, IdleStacksRetireIntoTheCacheRemainder) {
  Stacks st;
  Aggregator agg({"kmalloc-2k"}, 1, 60);
  agg.set_stack_idle(3 * kWidthS);
  std::vector<slk_agg_key> retire;
  std::vector<uint32_t> retire_stacks;
  auto ingest = [&](uint64_t now_epoch, std::vector<AggRow> rows, std::vector<uint32_t> stored) {
    KernelRead r;
    r.now_ns = epoch_ns(now_epoch);
    r.aggs = std::move(rows);
    r.stored_stacks = std::move(stored);
    retire.clear();
    retire_stacks.clear();
    return agg.ingest(r, st.resolve(), &retire, 0, &retire_stacks);
  };
  auto cache_allocs = [&](const std::vector<StackReport>& out) {
    uint64_t n = agg.retired_totals(0).first;
    for (const auto& s : out) n += s.allocs;
    return n;
  };

  // Stack 3 allocated 5 (all freed) in epoch 10; stack 4 holds 2 objects.
  auto out = ingest(11, {row(10, 3, 0, 0, 0, 5, 5), row(10, 4, 0, 2, 4096, 2, 0)}, {3, 4, 9});
  EXPECT_TRUE(retire_stacks.empty());
  EXPECT_EQ(cache_allocs(out), 7u);
  EXPECT_EQ(agg.stacks_tracked(), 3u);  // 9: stored, referenced by nothing yet

  // Epoch 10 is over: stack 3's key is retired, the stack not yet (idle
  // clock started at epoch 11).
  out = ingest(12, {row(10, 3, 0, 0, 0, 5, 5), row(10, 4, 0, 2, 4096, 2, 0)}, {3, 4, 9});
  EXPECT_TRUE(contains_key(retire, 10, 3));
  EXPECT_TRUE(retire_stacks.empty());
  EXPECT_EQ(cache_allocs(out), 7u);

  // Three epochs without an allocation: stacks 3 and 9 retire; 4 holds
  // objects and stays however long it waits.
  out = ingest(14, {row(10, 4, 0, 2, 4096, 2, 0)}, {3, 4, 9});
  std::sort(retire_stacks.begin(), retire_stacks.end());
  EXPECT_EQ(retire_stacks, (std::vector<uint32_t>{3, 9}));
  EXPECT_EQ(agg.retired_totals(0), (std::pair<uint64_t, uint64_t>{5, 5}));
  EXPECT_EQ(find(out, "kmalloc-2k", "alloc_pipe_info+0x10"), nullptr) << "a retired stack has no row";
  EXPECT_EQ(cache_allocs(out), 7u) << "totals move, they do not vanish";
  EXPECT_EQ(agg.stacks_retired(), 2u);

  // The same path allocates again later: a new life, counted on top.
  out = ingest(20, {row(19, 3, 0, 1, 2048, 1, 0), row(10, 4, 0, 2, 4096, 2, 0)}, {3, 4});
  EXPECT_TRUE(retire_stacks.empty());
  const StackReport* s3 = find(out, "kmalloc-2k", "alloc_pipe_info+0x10");
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->allocs, 1u);
  EXPECT_EQ(s3->objects, 1);
  EXPECT_EQ(cache_allocs(out), 8u);
}

// A thousand distinct stacks pass through, a few at a time: state kept per
// stack stays at the live ones.
TEST(Aggregation, TurnoverKeepsStateBoundedByLiveStacks) {
  std::map<uint32_t, SymbolizedStack> by_id;
  Aggregator agg({"kmalloc-2k"}, 1, 60);
  agg.set_stack_idle(2 * kWidthS);
  Aggregator::Resolve resolve = [&](uint32_t id) -> const SymbolizedStack& {
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      const std::string f = "fn" + std::to_string(id) + "+0x1";
      it = by_id.emplace(id, SymbolizedStack(FrameList{f}, FrameList{f.substr(0, f.find('+'))})).first;
    }
    return it->second;
  };
  std::map<std::pair<uint64_t, uint32_t>, AggRow> kernel;  // (epoch, stack) -> row
  std::vector<uint32_t> stored;
  uint64_t allocs = 0, max_tracked = 0;
  for (uint64_t epoch = 1; epoch <= 1000; ++epoch) {
    // Each epoch, 3 new stacks allocate and free 4 objects each.
    for (uint32_t i = 0; i < 3; ++i) {
      const uint32_t id = static_cast<uint32_t>(epoch * 3 + i);
      kernel[{epoch, id}] = row(epoch, id, 0, 0, 0, 4, 4);
      stored.push_back(id);
      allocs += 4;
    }
    KernelRead r;
    r.now_ns = epoch_ns(epoch + 1);
    for (const auto& [k, v] : kernel) r.aggs.push_back(v);
    r.stored_stacks = stored;
    std::vector<slk_agg_key> retire;
    std::vector<uint32_t> retire_stacks;
    const auto out = agg.ingest(r, resolve, &retire, 0, &retire_stacks);
    for (const auto& k : retire) kernel.erase({k.epoch, k.stack_id});
    for (uint32_t id : retire_stacks) std::erase(stored, id);
    uint64_t total = agg.retired_totals(0).first;
    for (const auto& s : out) total += s.allocs;
    ASSERT_EQ(total, allocs) << "epoch " << epoch;
    max_tracked = std::max<uint64_t>(max_tracked, agg.stacks_tracked());
  }
  EXPECT_LE(max_tracked, 20u);
  EXPECT_LE(stored.size(), 20u);
  EXPECT_GE(agg.stacks_retired(), 2900u);
}
