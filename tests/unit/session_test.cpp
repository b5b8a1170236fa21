// Session::collect() against a fake kernel: the join of kernel rows,
// symbols, slabinfo and tracer health, without root or BPF.
#include "session.h"

#include <gtest/gtest.h>

#include "error.h"

using namespace slableak;

namespace {

// Rows and counters set by the test; records what the session asks.
class FakeSource final : public TraceSource {
 public:
  KernelRead next;
  std::vector<uint32_t> stack_requests;
  std::vector<slk_agg_key> retired;
  std::vector<uint32_t> retired_stacks;
  uint32_t epoch_shift = 0;
  size_t learn_calls = 0;

  KernelRead read(const std::function<bool(uint32_t)>& want_stack) override {
    KernelRead r = next;
    r.stacks.clear();
    for (const auto& [id, ips] : next.stacks)
      if (!want_stack || want_stack(id)) {
        stack_requests.push_back(id);
        r.stacks.emplace(id, ips);
      }
    return r;
  }
  void retire(const std::vector<slk_agg_key>& keys) override {
    retired.insert(retired.end(), keys.begin(), keys.end());
  }
  void set_epoch_shift(uint32_t shift) override { epoch_shift = shift; }
  size_t retire_stacks(const std::vector<uint32_t>& ids) override {
    retired_stacks.insert(retired_stacks.end(), ids.begin(), ids.end());
    return ids.size();
  }
  size_t learn_sites() override { return ++learn_calls, 0; }
  MapCapacity capacity() const override { return {1000, 100, 64}; }
  uint64_t kernel_map_bytes() const override { return 4096; }
};

struct Clock {
  double mono = 100, wall = 1.7e9;
};

SlabCache slab(const std::string& name, uint64_t active) {
  SlabCache c;
  c.name = name;
  c.objsize = 2048;
  c.active_objs = active;
  c.num_objs = active;
  return c;
}

AggRow row(uint32_t stack, uint16_t cache, int64_t objects, uint64_t epoch_ns) {
  AggRow r{};
  r.key.stack_id = stack;
  r.key.cache_idx = cache;
  r.key.epoch_shift = 30;
  r.key.epoch = epoch_ns >> 30;
  r.val.objects = objects;
  r.val.bytes = objects * 2048;
  r.val.allocs = static_cast<uint64_t>(objects) + 5;
  r.val.frees = 5;
  return r;
}

struct Fixture {
  FakeSource* source = nullptr;
  std::shared_ptr<Clock> clock = std::make_shared<Clock>();
  std::shared_ptr<std::vector<SlabCache>> slabinfo =
      std::make_shared<std::vector<SlabCache>>(std::vector<SlabCache>{slab("kmalloc-2k", 1100)});
  std::shared_ptr<std::string> modules = std::make_shared<std::string>("ext4 1 2 - Live 0xffffffffc0100000\n");
  std::unique_ptr<Session> session;

  Fixture() {
    auto src = std::make_unique<FakeSource>();
    source = src.get();
    SessionSetup setup;
    setup.caches = {"kmalloc-2k", "kmalloc-cg-2k"};
    setup.method = "kfunc";
    setup.slab_start = {slab("kmalloc-2k", 1000)};
    setup.start_s = 90;
    SessionHost host;
    host.read_slabinfo = [s = slabinfo] { return *s; };
    host.monotonic_s = [c = clock] { return c->mono; };
    host.unix_s = [c = clock] { return c->wall; };
    host.sleep = [c = clock](std::chrono::nanoseconds d) {
      c->mono += std::chrono::duration<double>(d).count();
      return true;
    };
    host.read_modules = [m = modules] { return *m; };
    host.read_kallsyms = [] {
      return Kallsyms::parse(
          "ffffffff81000000 T __kmalloc_noprof\n"
          "ffffffff81000200 T netlink_sendmsg\n"
          "ffffffff81000500 T do_syscall_64\n"
          "ffffffffc0002000 t late_alloc\t[latemod]\n");
    };
    Kallsyms syms = Kallsyms::parse(
        "ffffffff81000000 T __kmalloc_noprof\n"
        "ffffffff81000200 T netlink_sendmsg\n"
        "ffffffff81000500 T do_syscall_64\n");
    session = std::make_unique<Session>(std::move(setup), std::move(src),
                                        std::make_unique<Symbolizer>(std::move(syms), false), std::move(host));
  }
};

}  // namespace

TEST(Session, JoinsRowsSymbolsSlabinfoAndHealth) {
  Fixture f;
  const uint64_t now = 10'000'000'000'000ull;
  f.source->next.now_ns = now;
  f.source->next.aggs = {row(7, 0, 60, now - 5'000'000'000ull), row(7, 0, 40, now - 100'000'000'000ull),
                         row(9, 1, 3, now - 1'000'000'000ull)};
  f.source->next.stacks = {{7, {0xffffffff81000010, 0xffffffff81000220, 0xffffffff81000510}},
                           {9, {0xffffffff81000510}}};
  f.source->next.stored_stacks = {7, 8};
  f.source->next.counters[TracerCounter::allocs_tracked] = 120;
  f.source->next.counters[TracerCounter::frees_tracked] = 15;
  f.source->next.counters[TracerCounter::recursion_misses] = 2;
  f.source->next.free_recursion_misses = 1;
  f.source->next.programs = {{"kmalloc_btf", true, 1}, {"kfree_btf", true, 1}};

  const Snapshot s = f.session->collect();
  EXPECT_DOUBLE_EQ(s.elapsed_s, 10);
  EXPECT_DOUBLE_EQ(s.unix_time, 1.7e9);
  EXPECT_EQ(s.method, "kfunc");
  ASSERT_EQ(s.caches.size(), 2u);
  EXPECT_EQ(s.caches[0].name, "kmalloc-2k");
  EXPECT_TRUE(s.caches[0].in_slabinfo);
  EXPECT_EQ(s.caches[0].slab_active_now - s.caches[0].slab_active_start, 100);
  EXPECT_EQ(s.caches[0].attributed_objects, 100);
  EXPECT_FALSE(s.caches[1].in_slabinfo);  // not in this slabinfo: shown as unknown, not as zero growth
  EXPECT_EQ(s.caches[1].attributed_objects, 3);

  const StackReport* held = nullptr;
  for (const auto& st : s.stacks)
    if (st.cache == "kmalloc-2k") held = &st;
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->objects, 100);
  EXPECT_EQ(held->bytes, 100 * 2048);
  EXPECT_EQ(held->frames.to_vector().front().rfind("netlink_sendmsg+0x20", 0), 0u)
      << "allocator frames are trimmed: " << held->frames.to_vector().front();

  EXPECT_EQ(s.health.counters[TracerCounter::recursion_misses], 2u);
  EXPECT_EQ(s.health.missed_frees, 1u);  // and each cache says its count is an upper bound
  ASSERT_EQ(s.health.programs.size(), 2u);  // the kernel's figures per program reach the reports
  EXPECT_EQ(s.health.programs[1].program, "kfree_btf");
  EXPECT_EQ(s.health.programs[1].recursion_misses, 1u);
  EXPECT_TRUE(s.caches[0].upper_bound());
  EXPECT_TRUE(s.caches[1].upper_bound());
  EXPECT_EQ(s.health.live_objects, 105u);
  EXPECT_EQ(s.health.live_capacity, 1000u);
  EXPECT_EQ(s.health.stack_entries, 2u);
  EXPECT_EQ(s.health.kernel_map_bytes, 4096u);
  EXPECT_GT(f.source->epoch_shift, 0u);
}

TEST(Session, FetchesEachStacksFramesOnce) {
  Fixture f;
  f.source->next.now_ns = 10'000'000'000'000ull;
  f.source->next.aggs = {row(7, 0, 1, f.source->next.now_ns)};
  f.source->next.stacks = {{7, {0xffffffff81000220}}};
  f.session->collect();
  f.session->collect();
  EXPECT_EQ(f.source->stack_requests, std::vector<uint32_t>{7});
}

TEST(Session, RetiresEmptyPastEpochsInTheKernel) {
  Fixture f;
  const uint64_t now = 10'000'000'000'000ull;
  f.source->next.now_ns = now;
  f.source->next.aggs = {row(7, 0, 0, now - 3'600'000'000'000ull)};
  f.source->next.stacks = {{7, {0xffffffff81000220}}};
  const Snapshot s = f.session->collect();
  ASSERT_EQ(f.source->retired.size(), 1u);
  EXPECT_EQ(f.source->retired[0].stack_id, 7u);
  EXPECT_EQ(s.health.agg_entries, 0u);
}

TEST(Session, WaitLearnsSitesWhileItSleeps) {
  Fixture f;
  EXPECT_TRUE(f.session->wait(std::chrono::seconds(1)));
  EXPECT_GE(f.source->learn_calls, 4u);
}

// /proc/slabinfo going bad after start is not fatal: each collection that
// cannot use it is counted and named, the slabinfo comparison is left out,
// and it comes back with the file.
TEST(Session, SlabinfoGoingBadIsCountedNotFatal) {
  Fixture f;
  f.source->next.now_ns = 10'000'000'000'000ull;
  Snapshot s = f.session->collect();
  EXPECT_EQ(s.slabinfo_errors, 0u);
  EXPECT_EQ(s.slabinfo_error, "");
  EXPECT_TRUE(s.caches[0].in_slabinfo);

  *f.slabinfo = {};  // empty or garbage: nothing parses
  s = f.session->collect();
  EXPECT_EQ(s.slabinfo_errors, 1u);
  EXPECT_NE(s.slabinfo_error.find("no cache lines"), std::string::npos) << s.slabinfo_error;
  EXPECT_FALSE(s.caches[0].in_slabinfo);

  *f.slabinfo = {slab("dentry", 10)};  // a followed cache that was there at start is gone
  s = f.session->collect();
  EXPECT_EQ(s.slabinfo_errors, 2u);
  EXPECT_NE(s.slabinfo_error.find("no line for kmalloc-2k"), std::string::npos) << s.slabinfo_error;
  EXPECT_FALSE(s.caches[0].in_slabinfo);

  *f.slabinfo = {slab("kmalloc-2k", 1200)};  // kmalloc-cg-2k was never listed: fine
  s = f.session->collect();
  EXPECT_EQ(s.slabinfo_errors, 2u);
  EXPECT_EQ(s.slabinfo_error, "");
  EXPECT_TRUE(s.caches[0].in_slabinfo);
  EXPECT_EQ(s.caches[0].slab_active_now, 1200);
}

TEST(Session, UnreadableSlabinfoIsCountedNotFatal) {
  // A host whose read throws, as read_text_file does.
  SessionSetup setup;
  setup.caches = {"kmalloc-2k"};
  setup.method = "kfunc";
  setup.slab_start = {slab("kmalloc-2k", 1000)};
  SessionHost host;
  host.read_slabinfo = []() -> std::vector<SlabCache> {
    throw Error(Exit::environment, "cannot read /proc/slabinfo: Permission denied");
  };
  host.monotonic_s = [] { return 100.0; };
  host.unix_s = [] { return 1.7e9; };
  host.sleep = [](std::chrono::nanoseconds) { return true; };
  auto src = std::make_unique<FakeSource>();
  src->next.now_ns = 10'000'000'000'000ull;
  Session session(std::move(setup), std::move(src),
                  std::make_unique<Symbolizer>(Kallsyms::parse("ffffffff81000000 T f\n"), false), std::move(host));
  Snapshot s;
  ASSERT_NO_THROW(s = session.collect());
  ASSERT_NO_THROW(s = session.collect());
  EXPECT_EQ(s.slabinfo_errors, 2u);
  EXPECT_EQ(s.slabinfo_error, "cannot read /proc/slabinfo: Permission denied");
  EXPECT_FALSE(s.caches[0].in_slabinfo);
}

// A module loaded after start: the next refresh re-reads the symbol table,
// so a stack through it is named; use counts that move do not trigger it.
TEST(Session, ModuleLoadedAfterStartIsSymbolized) {
  Fixture f;
  const uint64_t now = 10'000'000'000'000ull;
  f.source->next.now_ns = now;
  f.source->next.aggs = {row(7, 0, 5, now - 5'000'000'000ull)};
  f.source->next.stacks = {{7, {0xffffffff81000220, 0xffffffff81000510}}};
  f.session->collect();
  EXPECT_EQ(f.session->symbol_reloads(), 0u);
  *f.modules = "ext4 1 3 - Live 0xffffffffc0100000\n";  // a use count moved
  f.session->collect();
  EXPECT_EQ(f.session->symbol_reloads(), 0u);

  *f.modules += "latemod 1 0 - Live 0xffffffffc0002000\n";
  f.source->next.aggs.push_back(row(11, 0, 3, now - 1'000'000'000ull));
  f.source->next.stacks[11] = {0xffffffffc0002010, 0xffffffff81000510};
  const Snapshot s = f.session->collect();
  EXPECT_EQ(f.session->symbol_reloads(), 1u);
  bool named = false;
  for (const auto& st : s.stacks)
    if (!st.frames.empty() && st.frames.to_vector().front() == "late_alloc+0x10 [latemod]") named = true;
  EXPECT_TRUE(named);

  // The same module unloaded and loaded again elsewhere: a new address in
  // /proc/modules (the session reads it through a descriptor that shows
  // addresses, proc_files.h KeptFile) is a new symbol table too.
  *f.modules = "ext4 1 3 - Live 0xffffffffc0100000\nlatemod 1 0 - Live 0xffffffffc0008000\n";
  f.session->collect();
  EXPECT_EQ(f.session->symbol_reloads(), 2u);
}

// Idle stacks are handed to the kernel side for deletion, and their
// totals stay in the cache's counters.
TEST(Session, IdleStacksAreRetiredWithTheirTotalsKept) {
  Fixture f;
  uint64_t now = 10'000'000'000'000ull;
  f.source->next.now_ns = now;
  f.source->next.aggs = {row(7, 0, 0, now - 5'000'000'000ull)};  // 5 allocs, 5 frees, 5 s ago
  f.source->next.stacks = {{7, {0xffffffff81000220, 0xffffffff81000510}}};
  f.source->next.stored_stacks = {7};
  Snapshot s = f.session->collect();
  ASSERT_EQ(f.source->retired.size(), 1u);  // the empty past epoch
  f.source->next.aggs.clear();
  now += 700'000'000'000ull;  // past the default 10 minutes
  f.clock->mono += 700;
  f.source->next.now_ns = now;
  s = f.session->collect();
  EXPECT_EQ(f.source->retired_stacks, (std::vector<uint32_t>{7}));
  EXPECT_EQ(s.health.counters[TracerCounter::stacks_retired], 1u);
  EXPECT_EQ(s.health.stack_entries, 0u);
  EXPECT_EQ(s.caches[0].retired_allocs, 5u);
  EXPECT_EQ(s.caches[0].retired_frees, 5u);
}
