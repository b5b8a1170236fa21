#include "cache_selection.h"

#include <algorithm>

#include "error.h"
#include "printable.h"
#include "slableak.h"

namespace slableak {

std::vector<CacheSelection> select_caches(const std::vector<std::string>& requested,
                                          const std::vector<SlabCache>& slabinfo, bool exact) {
  if (requested.empty()) throw usage_error("no cache selected: pass --cache NAME (e.g. --cache kmalloc-2k)");
  if (requested.size() > SLK_MAX_CACHES)
    throw usage_error("at most " + std::to_string(SLK_MAX_CACHES) + " --cache options at once");
  const auto names = cache_names(slabinfo);
  std::vector<CacheSelection> out;
  for (const auto& name : requested) {
    if (name.size() >= SLK_CACHE_NAME_LEN)
      throw usage_error("cache name '" + name + "' is too long (max " + std::to_string(SLK_CACHE_NAME_LEN - 1) + ")");
    if (std::any_of(out.begin(), out.end(), [&](const CacheSelection& c) { return c.name == name; }))
      throw usage_error("cache '" + name + "' given twice");
    if (!find_cache(slabinfo, name)) {
      std::string hint;
      for (const auto& s : similar_names(name, names)) hint += (hint.empty() ? "" : ", ") + s;
      throw usage_error("unknown cache '" + printable(name) + "'" + (hint.empty() ? "" : "; similar: " + hint) +
                        " ('slableak caches' lists them all)");
    }
    const CacheName cn = classify_cache_name(name, names);
    if (cn.kind == CacheName::Kind::other)
      throw usage_error("cache '" + name + "' is not filled by kmalloc: slableak follows kmalloc caches "
                        "(kmalloc-*, kmalloc-cg-*, kmalloc-rcl-*, dma-kmalloc-*, and bucket caches such as msg_msg-2k)");
    if (!exact && cn.kind != CacheName::Kind::kmalloc)
      throw env_error("cache '" + name + "' can only be told apart from kmalloc-" + size_suffix(cn.size_class) +
                      " with bpf_get_kmem_cache (Linux 6.13+); on this kernel select the kmalloc-" +
                      size_suffix(cn.size_class) + " it shares a size class with");
    out.push_back(CacheSelection{name, size_class_lower_bound(cn.size_class), cn.size_class, cn.type});
  }
  return out;
}

}  // namespace slableak
