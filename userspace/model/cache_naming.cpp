#include "cache_naming.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace slableak {

const std::vector<uint32_t>& kmalloc_size_classes() {
  static const std::vector<uint32_t> classes = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192};
  return classes;
}

std::optional<uint32_t> size_class_for(uint64_t bytes_req) {
  for (uint32_t c : kmalloc_size_classes())
    if (bytes_req <= c) return c;
  return std::nullopt;
}

uint32_t size_class_lower_bound(uint32_t size_class) {
  uint32_t prev = 0;
  for (uint32_t c : kmalloc_size_classes()) {
    if (c == size_class) return prev;
    prev = c;
  }
  return prev;
}

uint32_t size_class_lower_bound(uint32_t size_class, const std::vector<std::string>& known) {
  const std::set<std::string_view> names(known.begin(), known.end());
  uint32_t prev = 0;
  bool any = false;
  for (uint32_t c : kmalloc_size_classes()) {
    if (!names.count(kmalloc_cache_name(KmallocType::normal, c))) continue;
    any = true;
    if (c >= size_class) break;
    prev = c;
  }
  return any ? prev : size_class_lower_bound(size_class);
}

std::string size_suffix(uint32_t size_class) {
  if (size_class >= 1024 && size_class % 1024 == 0) return std::to_string(size_class / 1024) + "k";
  return std::to_string(size_class);
}

std::string kmalloc_cache_name(KmallocType type, uint32_t size_class) {
  const std::string s = size_suffix(size_class);
  switch (type) {
    case KmallocType::dma: return "dma-kmalloc-" + s;
    case KmallocType::reclaim: return "kmalloc-rcl-" + s;
    case KmallocType::cgroup: return "kmalloc-cg-" + s;
    case KmallocType::large: return std::string(kKmallocLarge);
    case KmallocType::normal: break;
  }
  return "kmalloc-" + s;
}

uint32_t largest_kmalloc_class(const std::vector<std::string>& known_caches) {
  const std::set<std::string> names(known_caches.begin(), known_caches.end());
  uint32_t largest = 0;
  for (uint32_t c : kmalloc_size_classes())
    if (names.count(kmalloc_cache_name(KmallocType::normal, c))) largest = c;
  return largest ? largest : 8192;
}

namespace {

std::optional<uint32_t> parse_size_suffix(std::string_view s) {
  for (uint32_t c : kmalloc_size_classes())
    if (s == size_suffix(c)) return c;
  return std::nullopt;
}

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

CacheName classify_cache_name(std::string_view name, const std::vector<std::string>& known) {
  CacheName out;
  if (name == kKmallocLarge) return CacheName{CacheName::Kind::large, 0, KmallocType::large};
  const auto dash = name.rfind('-');
  if (dash == std::string_view::npos) return out;
  const auto size = parse_size_suffix(name.substr(dash + 1));
  if (!size) return out;
  const std::string_view prefix = name.substr(0, dash);

  static const std::pair<std::string_view, KmallocType> typed[] = {
      {"kmalloc", KmallocType::normal},
      {"kmalloc-cg", KmallocType::cgroup},
      {"kmalloc-rcl", KmallocType::reclaim},
      {"dma-kmalloc", KmallocType::dma},
  };
  for (const auto& [p, t] : typed) {
    if (prefix == p) return CacheName{CacheName::Kind::kmalloc, *size, t};
  }
  if (prefix.rfind("kmalloc-rnd-", 0) == 0 && is_digits(prefix.substr(12)))
    return CacheName{CacheName::Kind::random, *size, KmallocType::normal};

  // kmem_buckets_create() makes one cache per kmalloc size class under one
  // prefix. A lone "biovec-128" is not a bucket; a family of them is.
  size_t family = 0;
  for (uint32_t c : kmalloc_size_classes()) {
    const std::string member = std::string(prefix) + "-" + size_suffix(c);
    if (std::find(known.begin(), known.end(), member) != known.end()) ++family;
  }
  if (family >= 8) return CacheName{CacheName::Kind::bucket, *size, KmallocType::normal};
  return out;
}

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::vector<std::string> similar_names(std::string_view name, const std::vector<std::string>& candidates,
                                       size_t max) {
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& c : candidates) {
    size_t d = edit_distance(name, c);
    // A candidate that contains what was typed ("2k" in "kmalloc-2k") is a
    // better hint than its raw edit distance says.
    if (!name.empty() && c.find(name) != std::string::npos) d = std::min<size_t>(d, 1);
    scored.emplace_back(d, c);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  std::set<std::string> seen;
  const size_t limit = std::max<size_t>(3, name.size() / 2);
  for (const auto& [d, c] : scored) {
    if (out.size() >= max) break;
    if (d > limit) break;
    if (seen.insert(c).second) out.push_back(c);
  }
  return out;
}

}  // namespace slableak
