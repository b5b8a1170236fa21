#include "session.h"

#include <time.h>

#include "cache_selection.h"
#include "error.h"
#include "kallsyms.h"
#include "kernel_features.h"
#include "proc_files.h"
#include "signals.h"

namespace slableak {

double monotonic_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::vector<SlabCache> read_slabinfo() { return parse_slabinfo(read_text_file("/proc/slabinfo")); }

Session::Session(const SessionOptions& opt) : opt_(opt) {
  require_bpf_privileges();
  const KernelFeatures kf = probe_kernel_features();
  kernel_release_ = kf.release;
  if (opt.method == "kfunc" && !kf.has_kmem_cache_kfunc)
    throw env_error("--method kfunc needs bpf_get_kmem_cache (Linux 6.13+); this kernel (" + kf.release +
                    ") lacks it: use --method derived");
  if (opt.method != "auto" && opt.method != "kfunc" && opt.method != "derived")
    throw usage_error("bad --method '" + opt.method + "': use auto, kfunc or derived");
  const bool exact = kf.has_kmem_cache_kfunc && opt.method != "derived";
  method_ = exact ? "kfunc" : "derived";

  slab_start_ = read_slabinfo();
  selection_ = select_caches(opt.caches, slab_start_, exact);
  if (opt.sample_every == 0) throw usage_error("--sample-every must be at least 1");

  Kallsyms syms = read_kallsyms("/proc/kallsyms");
  if (syms.addresses_hidden() || syms.size() == 0)
    throw env_error("/proc/kallsyms shows no addresses: run as root with CAP_SYSLOG (or lower kernel.kptr_restrict)");
  symbolizer_ = std::make_unique<Symbolizer>(std::move(syms), opt.show_addresses);

  std::vector<std::string> names;
  for (const auto& c : selection_) names.push_back(c.name);
  aggregator_ = std::make_unique<Aggregator>(names, opt.sample_every, opt.growth_window_s);

  TracerConfig cfg;
  cfg.caches = selection_;
  cfg.programs = opt.bench_floor_alloc ? ProgramSet::floor_alloc
                 : opt.bench_floor     ? ProgramSet::floor
                 : exact               ? ProgramSet::kfunc
                                       : ProgramSet::derived;
  cfg.kmalloc_node_event = kf.has_kmalloc_node_event;
  cfg.max_tracked = opt.max_tracked;
  cfg.max_stacks = opt.max_stacks;
  cfg.max_aggregates = opt.max_aggregates;
  cfg.sample_every = opt.sample_every;
  cfg.stack_cache = opt.stack_cache;
  const double t0 = monotonic_seconds();
  slab_start_ = read_slabinfo();  // as close to attach as we can: the delta we explain starts here
  tracer_ = std::make_unique<BpfTracer>(cfg);
  const double t1 = monotonic_seconds();
  attach_ms_ = (t1 - t0) * 1e3;
  start_ns_ = static_cast<uint64_t>(t1 * 1e9);
}

Session::~Session() = default;

bool Session::wait(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  const auto deadline = steady_clock::now() + d;
  for (;;) {
    const auto left = duration_cast<nanoseconds>(deadline - steady_clock::now());
    if (left <= nanoseconds::zero()) return true;
    if (!sleep_unless_stopped(std::min<nanoseconds>(left, milliseconds(250)))) return false;
    tracer_->learn_sites();
  }
}

double Session::elapsed_s() const { return monotonic_seconds() - static_cast<double>(start_ns_) / 1e9; }

Snapshot Session::collect(double min_age_s) {
  const double elapsed = elapsed_s();
  tracer_->set_epoch_shift(epoch_shift_for(elapsed));
  const KernelRead read = tracer_->read([&](uint32_t id) { return symbolizer_->cached(id) == nullptr; });
  const std::vector<SlabCache> slab_now = read_slabinfo();

  static const SymbolizedStack missing{{"[stack missing]"}, {"[stack missing]"}};
  auto resolve = [&](uint32_t id) -> const SymbolizedStack& {
    if (const SymbolizedStack* known = symbolizer_->cached(id)) return *known;
    auto it = read.stacks.find(id);
    if (it == read.stacks.end()) return missing;
    return symbolizer_->symbolize(id, it->second);
  };
  std::vector<slk_agg_key> retire;
  Snapshot s;
  s.stacks = aggregator_->ingest(read, resolve, &retire, min_age_s);
  tracer_->retire(retire);

  timespec rt{};
  clock_gettime(CLOCK_REALTIME, &rt);
  s.unix_time = static_cast<double>(rt.tv_sec) + static_cast<double>(rt.tv_nsec) / 1e9;
  s.elapsed_s = elapsed;
  s.method = method_;
  s.sample_every = opt_.sample_every;
  const auto& totals = aggregator_->cache_totals();
  for (size_t i = 0; i < selection_.size(); ++i) {
    CacheHeader h;
    h.name = selection_[i].name;
    const SlabCache* a = find_cache(slab_start_, h.name);
    const SlabCache* b = find_cache(slab_now, h.name);
    h.in_slabinfo = a && b;
    if (a) h.object_size = a->objsize;
    if (h.in_slabinfo) {
      h.slab_active_start = static_cast<int64_t>(a->active_objs);
      h.slab_active_now = static_cast<int64_t>(b->active_objs);
    }
    if (i < totals.size()) {
      h.attributed_objects = totals[i].first;
      h.attributed_bytes = totals[i].second;
    }
    s.caches.push_back(h);
  }

  auto& h = s.health;
  h.counters = read.counters;
  using C = TracerCounter;
  const uint64_t gone = h.counters[C::frees_tracked] + h.counters[C::implicit_frees];
  const uint64_t tracked = h.counters[C::allocs_tracked];
  h.live_objects = tracked > gone ? tracked - gone : 0;
  const MapCapacity cap = tracer_->capacity();
  h.live_capacity = cap.live;
  h.agg_entries = read.aggs.size() - retire.size();
  h.agg_capacity = cap.aggregates;
  h.stack_entries = read.stacks_in_use;
  h.stack_capacity = cap.stacks;
  h.kernel_map_bytes = tracer_->kernel_map_bytes();
  return s;
}

}  // namespace slableak
