// Cache names as users type them (--cache) against the names a host has:
// classify_cache_name, similar_names and select_caches.
// Input: first line = requested names, comma-separated (at most 8); the
// rest = /proc/slabinfo text giving the host's caches.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cache_naming.h"
#include "cache_selection.h"
#include "error.h"
#include "fuzz_check.h"
#include "fuzz_selection.h"
#include "slabinfo.h"

using namespace slableak;

namespace {

void check_classification(const std::string& name, const CacheName& cn) {
  const auto& classes = kmalloc_size_classes();
  if (cn.kind == CacheName::Kind::other) return;
  if (cn.kind == CacheName::Kind::large) {  // the pseudo cache: no size class of its own
    FUZZ_CHECK(name == kKmallocLarge);
    return;
  }
  FUZZ_CHECK(std::find(classes.begin(), classes.end(), cn.size_class) != classes.end());
  const std::string suffix = "-" + size_suffix(cn.size_class);
  FUZZ_CHECK(name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0);
  if (cn.kind == CacheName::Kind::kmalloc) FUZZ_CHECK(kmalloc_cache_name(cn.type, cn.size_class) == name);
  if (cn.kind == CacheName::Kind::random) FUZZ_CHECK(name.rfind("kmalloc-rnd-", 0) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t nl = text.find('\n');
  const std::string_view first = text.substr(0, nl);
  const std::string_view rest = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);

  std::vector<std::string> requested;
  for (size_t start = 0; requested.size() < 8;) {
    const size_t comma = first.find(',', start);
    requested.emplace_back(first.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  const std::vector<SlabCache> caches = parse_slabinfo(rest);
  const std::vector<std::string> known = cache_names(caches);
  const std::set<std::string> known_set(known.begin(), known.end());

  for (const auto& name : requested) {
    check_classification(name, classify_cache_name(name, known));
    const size_t max = size > 0 ? data[0] % 8 : 5;
    const auto similar = similar_names(name, known, max);
    FUZZ_CHECK(similar.size() <= max);
    const std::set<std::string> uniq(similar.begin(), similar.end());
    FUZZ_CHECK(uniq.size() == similar.size());
    for (const auto& s : similar) FUZZ_CHECK(known_set.count(s) == 1);
  }
  for (const auto& name : known) check_classification(name, classify_cache_name(name, known));

  check_selection(requested, caches);
  return 0;
}
