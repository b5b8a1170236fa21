// /sys/kernel/slab: which cache names SLUB merged into one kmem_cache.
#pragma once
#include <map>
#include <set>
#include <vector>
#include <string>

namespace slableak {

// Every entry of @dir that is a symlink (a mergeable cache), name -> link
// target. Empty if the directory is missing (SLAB, or no sysfs): merged
// names are then unknown and asking for one is an "unknown cache".
std::map<std::string, std::string> read_slab_links(const std::string& dir = "/sys/kernel/slab");

// Which of @names are SLAB_RECLAIM_ACCOUNT caches (their memory counts as
// SReclaimable: dentry, inode caches): /sys/kernel/slab/NAME/reclaim_account.
std::set<std::string> read_reclaimable_caches(const std::vector<std::string>& names,
                                              const std::string& dir = "/sys/kernel/slab");

}  // namespace slableak
