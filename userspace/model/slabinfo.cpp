#include "slabinfo.h"

#include <charconv>

namespace slableak {
namespace {

bool next_field(std::string_view& line, std::string_view& field) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  line.remove_prefix(i);
  if (line.empty()) return false;
  size_t j = 0;
  while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
  field = line.substr(0, j);
  line.remove_prefix(j);
  return true;
}

template <typename T>
bool to_number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::vector<SlabCache> parse_slabinfo(std::string_view text) {
  std::vector<SlabCache> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line[0] == '#' || line.rfind("slabinfo", 0) == 0) continue;
    std::string_view name, active, num, objsize;
    if (!next_field(line, name) || !next_field(line, active) || !next_field(line, num) ||
        !next_field(line, objsize))
      continue;
    SlabCache c;
    c.name = std::string(name);
    if (!to_number(active, c.active_objs) || !to_number(num, c.num_objs) || !to_number(objsize, c.objsize))
      continue;
    // <objperslab> <pagesperslab> : tunables l b s : slabdata <active> <num> <shared>
    std::string_view f[12];
    size_t n = 0;
    while (n < 12 && next_field(line, f[n])) ++n;
    if (n == 12 && f[2] == ":" && f[7] == ":" && f[8] == "slabdata") {
      uint32_t pps = 0;
      uint64_t slabs = 0;
      if (to_number(f[1], pps) && to_number(f[10], slabs)) {
        c.pages_per_slab = pps;
        c.num_slabs = slabs;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

uint64_t slab_pages(const std::vector<SlabCache>& caches) {
  uint64_t pages = 0;
  for (const auto& c : caches) pages += c.num_slabs * c.pages_per_slab;
  return pages;
}

const SlabCache* find_cache(const std::vector<SlabCache>& caches, std::string_view name) {
  for (const auto& c : caches)
    if (c.name == name) return &c;
  return nullptr;
}

std::vector<std::string> cache_names(const std::vector<SlabCache>& caches) {
  std::vector<std::string> out;
  out.reserve(caches.size());
  for (const auto& c : caches) out.push_back(c.name);
  return out;
}

}  // namespace slableak
