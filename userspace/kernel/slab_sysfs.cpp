#include "slab_sysfs.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <memory>

namespace slableak {

std::map<std::string, std::string> read_slab_links(const std::string& dir) {
  std::map<std::string, std::string> links;
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
  if (!d) return links;
  // A few hundred entries; bounded anyway so a strange sysfs cannot grow us.
  while (dirent* e = readdir(d.get())) {
    if (e->d_type != DT_LNK || links.size() >= 65536) continue;
    char target[256];
    const ssize_t n = readlinkat(dirfd(d.get()), e->d_name, target, sizeof target - 1);
    if (n <= 0) continue;
    links.emplace(e->d_name, std::string(target, static_cast<size_t>(n)));
  }
  return links;
}

std::set<std::string> read_reclaimable_caches(const std::vector<std::string>& names, const std::string& dir) {
  std::set<std::string> out;
  for (const auto& n : names) {
    std::ifstream in(dir + "/" + n + "/reclaim_account");
    int v = 0;
    if (in >> v && v == 1) out.insert(n);
  }
  return out;
}

}  // namespace slableak
