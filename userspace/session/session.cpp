#include "session.h"

#include <algorithm>
#include <sstream>
#include <unordered_set>

#include "error.h"
#include "upper_bound.h"

namespace slableak {

Session::Session(SessionSetup setup, std::unique_ptr<TraceSource> source, std::unique_ptr<Symbolizer> symbolizer,
                 SessionHost host)
    : setup_(std::move(setup)),
      source_(std::move(source)),
      symbolizer_(std::move(symbolizer)),
      host_(std::move(host)),
      aggregator_(setup_.caches, setup_.sample_every, setup_.growth_window_s) {
  aggregator_.set_stack_idle(setup_.stack_idle_s);
  aggregator_.set_by_task(!setup_.by.empty());
  aggregator_.set_verdict_rules(rules_for_run(setup_.run_s));
  refresh_symbols();  // the module list the table was read with
}

Session::~Session() = default;

bool Session::wait(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  const double deadline = host_.monotonic_s() + duration<double>(d).count();
  for (;;) {
    const double left = deadline - host_.monotonic_s();
    if (left <= 0) return true;
    if (!host_.sleep(duration_cast<nanoseconds>(duration<double>(std::min(left, 0.25))))) return false;
    source_->learn_sites();
  }
}

double Session::elapsed_s() const { return host_.monotonic_s() - setup_.start_s; }

// The frames of a retired stack are kept for one more refresh: an
// allocation racing with the retirement may have been counted under its id
// after the kernel dropped the frames. Ids seen again stay.
void Session::forget_retired_stacks(const KernelRead& read, const std::vector<uint32_t>& retired_now) {
  if (!retiring_.empty()) {
    std::unordered_set<uint32_t> back(read.stored_stacks.begin(), read.stored_stacks.end());
    for (const auto& row : read.aggs) back.insert(row.key.stack_id);
    for (uint32_t id : retiring_)
      if (!back.count(id)) symbolizer_->forget(id);
  }
  retiring_ = retired_now;
}

// Modules loaded or unloaded since the symbol table was read resolve
// wrongly until it is read again. /proc/modules is small; the table is
// re-read only when the module names or load addresses changed.
void Session::refresh_symbols() {
  if (!host_.read_modules || !host_.read_kallsyms) return;
  std::string sig;
  std::istringstream in(host_.read_modules());
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string name, size, refs, deps, state, addr;
    f >> name >> size >> refs >> deps >> state >> addr;  // not the use counts, which move
    sig += name + ' ' + addr + '\n';
  }
  if (have_modules_sig_ && sig == modules_sig_) return;
  const bool first = !have_modules_sig_;
  modules_sig_ = std::move(sig);
  have_modules_sig_ = true;
  if (first) return;
  Kallsyms syms = host_.read_kallsyms();
  if (syms.addresses_hidden() || syms.size() == 0) return;
  symbolizer_->replace_symbols(std::move(syms));
  ++symbol_reloads_;
}

Snapshot Session::collect(double min_age_s) {
  const double elapsed = elapsed_s();
  source_->set_epoch_shift(epoch_shift_for(elapsed));
  refresh_symbols();
  const KernelRead read = source_->read([&](uint32_t id) { return symbolizer_->cached(id) == nullptr; });
  // /proc/slabinfo going bad after start (unreadable, empty, garbage, a
  // followed cache gone) does not stop the session: the BPF counts are still
  // true. The comparison with slabinfo is left out and the failure counted
  // and named in the Snapshot, so that it shows in every output.
  std::vector<SlabCache> slab_now;
  std::string slab_error;
  try {
    slab_now = host_.read_slabinfo();
    if (slab_now.empty()) slab_error = "/proc/slabinfo has no cache lines (empty or not slabinfo)";
    // A cache listed at start and gone now (a partial or garbled file, a
    // destroyed cache); one never listed (merged) is not an error.
    for (const auto& name : setup_.caches)
      if (slab_error.empty() && find_cache(setup_.slab_start, name) && !find_cache(slab_now, name))
        slab_error = "/proc/slabinfo has no line for " + name + " any more";
  } catch (const Error& e) {
    slab_error = e.what();
  }
  if (!slab_error.empty()) {
    slab_now.clear();
    ++slabinfo_errors_;
  }

  static const SymbolizedStack missing{{"[stack missing]"}, {"[stack missing]"}};
  auto resolve = [&](uint32_t id) -> const SymbolizedStack& {
    if (const SymbolizedStack* known = symbolizer_->cached(id)) return *known;
    auto it = read.stacks.find(id);
    if (it == read.stacks.end()) return missing;
    return symbolizer_->symbolize(id, it->second);
  };
  std::vector<slk_agg_key> retire;
  std::vector<uint32_t> retire_stacks;
  Snapshot s;
  s.stacks = aggregator_.ingest(read, resolve, &retire, min_age_s, &retire_stacks);
  for (auto& st : s.stacks)
    for (const auto& sel : setup_.followed)
      if (sel.name == st.cache) st.requested = sel.requested;
  source_->retire(retire);
  const size_t stacks_deleted = source_->retire_stacks(retire_stacks);
  forget_retired_stacks(read, retire_stacks);

  s.unix_time = host_.unix_s();
  s.elapsed_s = elapsed;
  s.method = setup_.method;
  s.arch = setup_.arch;
  s.kernel_release = setup_.kernel_release;
  s.stack_fingerprints = setup_.stack_fingerprints;
  s.sample_every = setup_.sample_every;
  s.by = setup_.by;
  s.slabinfo_errors = slabinfo_errors_;
  s.slabinfo_error = slab_error;
  const auto& totals = aggregator_.cache_totals();
  for (size_t i = 0; i < setup_.caches.size(); ++i) {
    CacheHeader h;
    h.name = setup_.caches[i];
    if (i < setup_.followed.size()) {
      const CacheSelection& sel = setup_.followed[i];
      h.requested = sel.requested;
      h.family = sel.family;
      h.merged_as = sel.merged_as;
      h.shares_with = sel.shares_with;
      h.named = sel.named;
    }
    const SlabCache* a = find_cache(setup_.slab_start, h.name);
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
    const auto [r_allocs, r_frees] = aggregator_.retired_totals(i);
    h.retired_allocs = r_allocs * setup_.sample_every;
    h.retired_frees = r_frees * setup_.sample_every;
    if (i < read.implicit_frees_by_cache.size())
      h.implicit_frees = read.implicit_frees_by_cache[i] * std::max<uint32_t>(setup_.sample_every, 1);
    h.upper_bound_reasons = upper_bound_reasons({h.implicit_frees, read.free_recursion_misses});
    s.caches.push_back(h);
  }

  auto& h = s.health;
  h.counters = read.counters;
  h.missed_frees = read.free_recursion_misses;
  h.programs = read.programs;
  using C = TracerCounter;
  h.counters[C::stacks_retired] = aggregator_.stacks_retired();
  const uint64_t gone = h.counters[C::frees_tracked] + h.counters[C::implicit_frees];
  const uint64_t tracked = h.counters[C::allocs_tracked];
  h.live_objects = tracked > gone ? tracked - gone : 0;
  const MapCapacity cap = source_->capacity();
  h.live_capacity = cap.live;
  h.agg_entries = read.aggs.size() - retire.size();
  h.agg_capacity = cap.aggregates;
  h.stack_entries = read.stored_stacks.size() - std::min(stacks_deleted, read.stored_stacks.size());
  h.stack_capacity = cap.stacks;
  h.kernel_map_bytes = source_->kernel_map_bytes();
  return s;
}

}  // namespace slableak
