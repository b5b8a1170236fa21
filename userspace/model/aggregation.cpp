#include "aggregation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_map>

#include "error.h"
#include "stack_digest.h"
#include "task_labels.h"

namespace slableak {

SortKey parse_sort_key(const std::string& s) {
  if (s == "bytes") return SortKey::bytes;
  if (s == "objects") return SortKey::objects;
  if (s == "age") return SortKey::age;
  if (s == "growth") return SortKey::growth;
  if (s == "verdict") return SortKey::verdict;
  throw usage_error("bad --sort '" + s + "': use verdict, bytes, objects, age or growth");
}

double epoch_age_seconds(const slk_agg_key& key, uint64_t now_ns) {
  const double width = std::ldexp(1.0, key.epoch_shift);
  const double start = static_cast<double>(key.epoch) * width;
  const double mid = start + width / 2;
  const double age = (static_cast<double>(now_ns) - mid) / 1e9;
  return age > 0 ? age : 0;
}

size_t age_bucket_of(double age_s) {
  for (size_t i = 0; i < kAgeBounds.size(); ++i)
    if (age_s < kAgeBounds[i]) return i;
  return kAgeBounds.size();
}

uint32_t epoch_shift_for(double elapsed_s) {
  constexpr uint32_t kMin = SLK_EPOCH_MIN_SHIFT;  // 2^30 ns ~ 1.07 s: the live map keeps no finer time
  constexpr uint32_t kMax = 40;  // 2^40 ns ~ 18.3 min
  const double target_ns = elapsed_s / 32 * 1e9;
  uint32_t shift = kMin;
  while (shift < kMax && std::ldexp(1.0, static_cast<int>(shift)) < target_ns) ++shift;
  return shift;
}

Aggregator::Aggregator(std::vector<std::string> cache_names, uint32_t sample_every, double growth_window_s)
    : cache_names_(std::move(cache_names)), sample_every_(sample_every ? sample_every : 1),
      growth_(growth_window_s) {
  for (size_t i = 0; i < cache_names_.size(); ++i)
    cache_key_.push_back(static_cast<uint32_t>(
        std::find(cache_names_.begin(), cache_names_.end(), cache_names_[i]) - cache_names_.begin()));
}

std::string Aggregator::cache_name(uint16_t cache_idx) const {
  return cache_idx < cache_names_.size() ? cache_names_[cache_idx] : "cache#" + std::to_string(cache_idx);
}

uint32_t Aggregator::cache_key(uint16_t cache_idx) const {
  if (cache_idx < cache_key_.size()) return cache_key_[cache_idx];
  const std::string name = cache_name(cache_idx);
  const auto it = std::find(cache_names_.begin(), cache_names_.end(), name);
  if (it != cache_names_.end()) return static_cast<uint32_t>(it - cache_names_.begin());
  return static_cast<uint32_t>(cache_names_.size()) + cache_idx;
}

std::pair<uint64_t, uint64_t> Aggregator::retired_totals(size_t cache_idx) const {
  if (cache_idx >= cache_key_.size()) return {0, 0};
  auto it = remainder_.find(cache_key_[cache_idx]);
  return it == remainder_.end() ? std::pair<uint64_t, uint64_t>{0, 0} : it->second;
}

std::vector<StackReport> Aggregator::ingest(const KernelRead& read, const Resolve& resolve,
                                            std::vector<slk_agg_key>* retire, double min_age_s,
                                            std::vector<uint32_t>* retire_stacks) {
  static const SymbolizedStack unavailable{{"[stack unavailable]"}, {"[stack unavailable]"}};
  const double now_s = static_cast<double>(read.now_ns) / 1e9;
  const int64_t scale = sample_every_;

  // One row per (cache, stack digest): kernel stack ids that symbolize
  // alike fold into one. The digest is the symbolizer's, taken once per
  // stack; the frames are shared with its cache, not copied.
  struct Acc {
    GrowthKey key;
    uint64_t allocs = 0, frees = 0;
  };
  std::vector<StackReport> out;
  std::vector<Acc> acc;
  std::unordered_map<GrowthKey, uint32_t, GrowthKeyHash> row_of;
  out.reserve(last_rows_);
  acc.reserve(last_rows_);
  row_of.reserve(last_rows_);

  // --by: one name per slot, unique by construction (task_labels.h).
  std::unordered_map<uint8_t, std::string> task_label;
  if (by_task_) {
    std::array<bool, 256> used{};
    for (const auto& row : read.aggs) used[row.key.task_slot] = true;
    // Retired keys keep their slot, and their totals become rows below
    // after the slot's last key has left the map.
    for (const auto& [key, totals] : retired_) used[std::get<1>(key)] = true;
    std::vector<uint8_t> slots;
    for (size_t i = 0; i < used.size(); ++i)
      if (used[i]) slots.push_back(static_cast<uint8_t>(i));
    task_label = unique_task_labels(read.task_names, slots);
  }

  auto row_for = [&](uint16_t cache_idx, uint32_t stack_id, uint8_t task) -> uint32_t {
    const SymbolizedStack& sym = stack_id == SLK_STACK_UNAVAILABLE ? unavailable : resolve(stack_id);
    const GrowthKey key{cache_key(cache_idx), sym.digest, task};
    auto [it, fresh] = row_of.try_emplace(key, static_cast<uint32_t>(out.size()));
    if (fresh) {
      StackReport& r = out.emplace_back();
      r.cache = cache_name(cache_idx);
      if (by_task_) r.task = task_label.at(task);  // every slot of a row is labelled above
      r.stack_id = digest_hex(sym.digest);
      r.stack_fn_id = digest_hex(sym.fn_digest);
      r.frames = sym.frames;
      r.functions = sym.functions;
      acc.push_back({key});
    }
    return it->second;
  };

  std::unordered_map<uint32_t, StackSeen> seen;
  const bool lifecycle = retire && retire_stacks && stack_idle_s_ >= 0;
  if (lifecycle) seen.reserve(stack_clock_.size() + 16);

  for (const auto& row : read.aggs) {
    const auto& k = row.key;
    const auto& v = row.val;
    const bool past = (k.epoch + 1) < (read.now_ns >> k.epoch_shift);  // ended over an epoch ago
    if (retire && past && v.objects == 0) {
      auto& t = retired_[{k.cache_idx, k.task_slot, k.stack_id}];
      t.first += v.allocs;
      t.second += v.frees;
      retire->push_back(k);
      continue;
    }
    if (lifecycle) {
      auto& sn = seen[k.stack_id];
      sn.allocs += v.allocs;
      sn.has_keys = true;
    }
    const uint32_t i = row_for(k.cache_idx, k.stack_id, k.task_slot);
    StackReport& r = out[i];
    acc[i].allocs += v.allocs;
    acc[i].frees += v.frees;
    const double age = epoch_age_seconds(k, read.now_ns);
    if (v.objects > 0 && age >= min_age_s) {
      r.objects += v.objects * scale;
      r.bytes += v.bytes * scale;
      r.oldest_age_s = std::max(r.oldest_age_s, age);
      r.age_objects[age_bucket_of(age)] += v.objects * scale;
    }
  }
  if (lifecycle) retire_idle_stacks(read, now_s, seen, retire_stacks);
  // Totals of retired keys belong to stacks that may have nothing
  // outstanding now; they still count as allocation history.
  for (const auto& [key, t] : retired_) {
    const uint32_t i = row_for(std::get<0>(key), std::get<2>(key), std::get<1>(key));
    acc[i].allocs += t.first;
    acc[i].frees += t.second;
  }

  cache_totals_.assign(cache_names_.size(), {0, 0});
  VerdictInput vin;  // one history buffer for every stack of this read
  for (size_t i = 0; i < out.size(); ++i) {
    StackReport& r = out[i];
    const GrowthKey& key = acc[i].key;
    r.allocs = acc[i].allocs * static_cast<uint64_t>(scale);
    r.frees = acc[i].frees * static_cast<uint64_t>(scale);
    if (last_ingest_s_ >= 0 && !growth_.has(key)) {
      // New since the last read: it held nothing then. Without this point a
      // leak that appears all at once would show no growth.
      growth_.add(key, last_ingest_s_, 0, 0);
    }
    growth_.add(key, now_s, static_cast<double>(r.objects), static_cast<double>(r.bytes));
    const GrowthRates rates = growth_.rate(key);
    r.growth_objects_per_s = rates.objects_per_s;
    r.growth_bytes_per_s = rates.bytes_per_s;
    growth_.history(key, &vin.history);
    vin.objects = r.objects;
    vin.allocs = r.allocs;
    vin.frees = r.frees;
    vin.oldest_age_s = r.oldest_age_s;
    vin.growth_bytes_per_s = r.growth_bytes_per_s;
    vin.sample_every = sample_every_;
    VerdictResult v = judge(vin, verdict_rules_);
    r.verdict = v.verdict;
    r.verdict_evidence = std::move(v.evidence);
    for (size_t c = 0; c < cache_names_.size(); ++c) {
      if (cache_key_[c] == key.cache) {
        cache_totals_[c].first += r.objects;
        cache_totals_[c].second += r.bytes;
      }
    }
  }
  growth_.expire(now_s);
  last_ingest_s_ = now_s;
  last_rows_ = out.size();
  return out;
}

void Aggregator::retire_idle_stacks(const KernelRead& read, double now_s,
                                    std::unordered_map<uint32_t, StackSeen>& seen,
                                    std::vector<uint32_t>* retire_stacks) {
  for (const auto& [key, t] : retired_) seen[std::get<2>(key)].allocs += t.first;
  // A stored stack no aggregate refers to (its aggregate insert failed, or
  // it was captured to verify a fingerprint) is still a stack to retire.
  for (uint32_t id : read.stored_stacks) seen.try_emplace(id);
  seen.erase(SLK_STACK_UNAVAILABLE);

  std::vector<uint32_t> idle;
  for (const auto& [id, sn] : seen) {
    auto [it, fresh] = stack_clock_.try_emplace(id, StackClock{sn.allocs, now_s});
    if (!fresh && it->second.allocs != sn.allocs) it->second = {sn.allocs, now_s};
    if (!sn.has_keys && now_s - it->second.since_s >= stack_idle_s_) idle.push_back(id);
  }
  // Ids neither stored nor referenced any more (retired elsewhere, or a
  // store entry deleted) need no clock.
  for (auto it = stack_clock_.begin(); it != stack_clock_.end();)
    it = seen.count(it->first) ? std::next(it) : stack_clock_.erase(it);
  if (idle.empty()) return;

  std::sort(idle.begin(), idle.end());
  for (auto it = retired_.begin(); it != retired_.end();) {
    if (!std::binary_search(idle.begin(), idle.end(), std::get<2>(it->first))) {
      ++it;
      continue;
    }
    auto& rem = remainder_[cache_key(std::get<0>(it->first))];
    rem.first += it->second.first;
    rem.second += it->second.second;
    it = retired_.erase(it);
  }
  for (uint32_t id : idle) stack_clock_.erase(id);
  stacks_retired_ += idle.size();
  retire_stacks->insert(retire_stacks->end(), idle.begin(), idle.end());
}

double sort_value(const StackReport& s, SortKey key) {
  switch (key) {
    case SortKey::verdict:
    case SortKey::bytes: return static_cast<double>(s.bytes);
    case SortKey::objects: return static_cast<double>(s.objects);
    case SortKey::age: return s.objects > 0 ? s.oldest_age_s : -1;
    case SortKey::growth: return s.growth_bytes_per_s;
  }
  return 0;
}

void sort_stacks(std::vector<StackReport>& stacks, SortKey key) {
  auto metric = [key](const StackReport& s) { return sort_value(s, key); };
  // Sort small keys, then move each report once: sorting the ~220-byte
  // reports themselves moved each one log(n) times and needed a buffer of
  // n/2 of them.
  struct Key {
    bool leaking;  // --sort verdict: leaking stacks first, then by bytes
    double metric;
    int64_t bytes;
    uint32_t index;
  };
  std::vector<Key> keys;
  keys.reserve(stacks.size());
  for (size_t i = 0; i < stacks.size(); ++i)
    keys.push_back({key == SortKey::verdict && stacks[i].verdict == Verdict::leaking, metric(stacks[i]),
                    stacks[i].bytes, static_cast<uint32_t>(i)});
  std::stable_sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
    if (a.leaking != b.leaking) return a.leaking;
    if (a.metric != b.metric) return a.metric > b.metric;
    if (a.bytes != b.bytes) return a.bytes > b.bytes;
    return stacks[a.index].stack_id < stacks[b.index].stack_id;  // deterministic order for equal rows
  });
  // Position i takes the report at keys[i].index: follow each cycle of the
  // permutation, marking done positions by pointing them at themselves.
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].index == i) continue;
    StackReport held = std::move(stacks[i]);
    size_t at = i;
    while (keys[at].index != i) {
      const size_t from = keys[at].index;
      stacks[at] = std::move(stacks[from]);
      keys[at].index = static_cast<uint32_t>(at);
      at = from;
    }
    stacks[at] = std::move(held);
    keys[at].index = static_cast<uint32_t>(at);
  }
}

}  // namespace slableak
