// Turns the user's --cache arguments (names, merged names, globs, kmalloc
// families) into the kernel caches the BPF programs follow, refusing what
// the host does not have or this kernel cannot name.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cache_naming.h"
#include "slabinfo.h"

namespace slableak {

// What the host calls its caches.
struct HostCaches {
  std::vector<SlabCache> slabinfo;
  // /sys/kernel/slab entries that are links (mergeable caches): name -> the
  // directory it points at. Names with the same target share one kmem_cache;
  // /proc/slabinfo lists only the one the cache was created under.
  std::map<std::string, std::string> links;
};

// How this kernel lets the programs name the cache of an allocation.
struct NamingAbility {
  bool exact_kmalloc = false;  // a kmalloc's cache is known exactly (kfunc or slab method)
  bool named_alloc = false;    // a kmem_cache_alloc event's cache is known (6.0+, or the slab walk)
  std::string release;         // uname -r, for refusals
};

struct CacheSelection {
  std::string name;       // the kernel's name (kmem_cache->name, /proc/slabinfo)
  std::string requested;  // the --cache argument(s) that selected it, ", "-joined
  std::string family;     // the glob or random-kmalloc family it belongs to; "" if alone
  std::string merged_as;  // merged names the user asked for, followed through this cache
  std::vector<std::string> shares_with;  // every other name merged into this cache
  bool named = false;     // filled by kmem_cache_alloc (not a kmalloc cache)
  uint32_t obj_size = 0;  // /proc/slabinfo objsize
  uint32_t req_lo = 0;    // kmalloc requests in (req_lo, req_hi] land in this size class
  uint32_t req_hi = 0;
  KmallocType type = KmallocType::normal;
};

// Throws a usage Error, one line, naming the fix: unknown name (with the
// closest real names), a glob matching nothing, duplicates, more than
// SLK_MAX_CACHES caches, a cache this kernel cannot name (with the kernel
// version that can).
std::vector<CacheSelection> select_caches(const std::vector<std::string>& requested, const HostCaches& host,
                                          const NamingAbility& can);

// Shorthand without sysfs links; @exact covers kmalloc and named caches alike.
std::vector<CacheSelection> select_caches(const std::vector<std::string>& requested,
                                          const std::vector<SlabCache>& slabinfo, bool exact);

// The hash the BPF verdict uses for a kernel cache name (FNV-1a 64, the same
// as bpf/cache_verdict.h name_hash()).
uint64_t slk_name_hash(const std::string& name);

// True if @arg is a glob (has *, ? or [).
bool is_cache_glob(const std::string& arg);

}  // namespace slableak
