#include "aggregation.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "error.h"
#include "stack_digest.h"

namespace slableak {

SortKey parse_sort_key(const std::string& s) {
  if (s == "bytes") return SortKey::bytes;
  if (s == "objects") return SortKey::objects;
  if (s == "age") return SortKey::age;
  if (s == "growth") return SortKey::growth;
  throw usage_error("bad --sort '" + s + "': use bytes, objects, age or growth");
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
  constexpr uint32_t kMin = 30;  // 2^30 ns ~ 1.07 s
  constexpr uint32_t kMax = 40;  // 2^40 ns ~ 18.3 min
  const double target_ns = elapsed_s / 32 * 1e9;
  uint32_t shift = kMin;
  while (shift < kMax && std::ldexp(1.0, static_cast<int>(shift)) < target_ns) ++shift;
  return shift;
}

Aggregator::Aggregator(std::vector<std::string> cache_names, uint32_t sample_every, double growth_window_s)
    : cache_names_(std::move(cache_names)), sample_every_(sample_every ? sample_every : 1),
      growth_(growth_window_s) {}

std::vector<StackReport> Aggregator::ingest(const KernelRead& read, const Resolve& resolve,
                                            std::vector<slk_agg_key>* retire, double min_age_s) {
  static const std::vector<uint64_t> no_ips;
  const double now_s = static_cast<double>(read.now_ns) / 1e9;
  const int64_t scale = sample_every_;

  struct Acc {
    StackReport r;
    uint64_t allocs = 0, frees = 0;
  };
  std::unordered_map<std::string, Acc> by_id;  // cache + '\0' + digest
  std::map<std::pair<uint16_t, uint32_t>, bool> live_pairs;

  auto acc_for = [&](uint16_t cache_idx, uint32_t stack_id) -> Acc& {
    const SymbolizedStack* sym = nullptr;
    static const SymbolizedStack unavailable{{"[stack unavailable]"}, {"[stack unavailable]"}};
    if (stack_id == SLK_STACK_UNAVAILABLE)
      sym = &unavailable;
    else
      sym = &resolve(stack_id);
    const std::string cache =
        cache_idx < cache_names_.size() ? cache_names_[cache_idx] : "cache#" + std::to_string(cache_idx);
    const std::string digest = stack_digest(sym->frames);
    auto [it, fresh] = by_id.try_emplace(cache + '\0' + digest);
    if (fresh) {
      it->second.r.cache = cache;
      it->second.r.stack_id = digest;
      it->second.r.frames = sym->frames;
      it->second.r.functions = sym->functions;
    }
    return it->second;
  };

  for (const auto& row : read.aggs) {
    const auto& k = row.key;
    const auto& v = row.val;
    const bool past = (k.epoch + 1) < (read.now_ns >> k.epoch_shift);  // ended over an epoch ago
    if (retire && past && v.objects == 0) {
      auto& t = retired_[{k.cache_idx, k.stack_id}];
      t.first += v.allocs;
      t.second += v.frees;
      retire->push_back(k);
      continue;
    }
    Acc& a = acc_for(k.cache_idx, k.stack_id);
    live_pairs[{k.cache_idx, k.stack_id}] = true;
    a.allocs += v.allocs;
    a.frees += v.frees;
    const double age = epoch_age_seconds(k, read.now_ns);
    if (v.objects > 0 && age >= min_age_s) {
      a.r.objects += v.objects * scale;
      a.r.bytes += v.bytes * scale;
      a.r.oldest_age_s = std::max(a.r.oldest_age_s, age);
      a.r.age_objects[age_bucket_of(age)] += v.objects * scale;
    }
  }
  // Totals of retired keys belong to stacks that may have nothing
  // outstanding now; they still count as allocation history.
  for (const auto& [pair, t] : retired_) {
    Acc& a = acc_for(pair.first, pair.second);
    a.allocs += t.first;
    a.frees += t.second;
  }

  cache_totals_.assign(cache_names_.size(), {0, 0});
  std::vector<StackReport> out;
  out.reserve(by_id.size());
  for (auto& [id, a] : by_id) {
    a.r.allocs = a.allocs * static_cast<uint64_t>(scale);
    a.r.frees = a.frees * static_cast<uint64_t>(scale);
    if (last_ingest_s_ >= 0 && !growth_.has("o:" + id)) {
      // New since the last read: it held nothing then. Without this point a
      // leak that appears all at once would show no growth.
      growth_.add("o:" + id, last_ingest_s_, 0);
      growth_.add("b:" + id, last_ingest_s_, 0);
    }
    growth_.add("o:" + id, now_s, static_cast<double>(a.r.objects));
    growth_.add("b:" + id, now_s, static_cast<double>(a.r.bytes));
    a.r.growth_objects_per_s = growth_.rate("o:" + id);
    a.r.growth_bytes_per_s = growth_.rate("b:" + id);
    for (size_t i = 0; i < cache_names_.size(); ++i) {
      if (cache_names_[i] == a.r.cache) {
        cache_totals_[i].first += a.r.objects;
        cache_totals_[i].second += a.r.bytes;
      }
    }
    out.push_back(std::move(a.r));
  }
  growth_.expire(now_s);
  last_ingest_s_ = now_s;
  return out;
}

void sort_stacks(std::vector<StackReport>& stacks, SortKey key) {
  auto metric = [key](const StackReport& s) -> double {
    switch (key) {
      case SortKey::bytes: return static_cast<double>(s.bytes);
      case SortKey::objects: return static_cast<double>(s.objects);
      case SortKey::age: return s.objects > 0 ? s.oldest_age_s : -1;
      case SortKey::growth: return s.growth_bytes_per_s;
    }
    return 0;
  };
  std::stable_sort(stacks.begin(), stacks.end(), [&](const StackReport& a, const StackReport& b) {
    const double ma = metric(a), mb = metric(b);
    if (ma != mb) return ma > mb;
    if (a.bytes != b.bytes) return a.bytes > b.bytes;
    return a.stack_id < b.stack_id;  // deterministic order for equal rows
  });
}

}  // namespace slableak
