// parse_slabinfo: /proc/slabinfo text, then what the program does with the
// result (find_cache, cache_names, select_caches on the names it found).
#include <cstdint>
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

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<SlabCache> caches = parse_slabinfo(text);
  const std::vector<std::string> names = cache_names(caches);
  FUZZ_CHECK(names.size() == caches.size());
  for (const auto& c : caches) {
    FUZZ_CHECK(!c.name.empty());
    FUZZ_CHECK(c.name.find_first_of(" \t\n") == std::string::npos);
    FUZZ_CHECK(find_cache(caches, c.name) != nullptr);
  }
  if (caches.empty()) return 0;
  std::vector<std::string> requested{caches.front().name};
  if (caches.size() > 1 && caches.back().name != caches.front().name) requested.push_back(caches.back().name);
  check_selection(requested, caches);
  return 0;
}
