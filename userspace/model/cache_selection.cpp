#include "cache_selection.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "error.h"
#include "printable.h"
#include "slableak.h"

namespace slableak {
namespace {

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

void append_unique(std::string& list, const std::string& item) {
  if (item.empty()) return;
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t end = std::min(list.find(", ", pos), list.size());
    if (list.compare(pos, end - pos, item) == 0 && end - pos == item.size()) return;
    pos = end + 2;
  }
  list += (list.empty() ? "" : ", ") + item;
}

struct Resolved {
  std::string kernel;     // name in /proc/slabinfo
  std::string merged_as;  // the merged name asked for, "" if it is the kernel's own
};

class Resolver {
 public:
  explicit Resolver(const HostCaches& host) : host_(host), names_(cache_names(host.slabinfo)) {}

  const std::vector<std::string>& names() const { return names_; }

  // Every name the host knows: slabinfo lines and merged names in sysfs.
  std::vector<std::string> all_names() const {
    std::set<std::string> all(names_.begin(), names_.end());
    for (const auto& [n, t] : host_.links) all.insert(n);
    return {all.begin(), all.end()};
  }

  Resolved resolve(const std::string& name) const {
    if (find_cache(host_.slabinfo, name) || name == kKmallocLarge) return {name, ""};
    const auto link = host_.links.find(name);
    if (link != host_.links.end()) {
      for (const auto& n : names_) {
        const auto l = host_.links.find(n);
        if (l != host_.links.end() && l->second == link->second) return {n, name};
      }
      throw usage_error("cache '" + name + "' is merged (/sys/kernel/slab/" + name + " -> " + link->second +
                        ") but no /proc/slabinfo line names the cache it was merged into; follow one of: " +
                        join(merged_names(name)));
    }
    // kmalloc-large is a hint but no glob's match: it is followed by name.
    std::vector<std::string> known = all_names();
    known.emplace_back(kKmallocLarge);
    std::string hint = join(similar_names(name, known));
    throw usage_error("unknown cache '" + printable(name) + "'" + (hint.empty() ? "" : "; closest: " + hint) +
                      " ('slableak caches' lists them all)");
  }

  // Other names sharing @kernel's kmem_cache (SLUB merging).
  std::vector<std::string> merged_names(const std::string& kernel) const {
    std::vector<std::string> out;
    const auto link = host_.links.find(kernel);
    if (link == host_.links.end()) return out;
    for (const auto& [n, t] : host_.links)
      if (t == link->second && n != kernel) out.push_back(n);
    return out;
  }

 private:
  const HostCaches& host_;
  std::vector<std::string> names_;
};

// Refuses a cache this kernel cannot name; one line naming the version that can.
void check_nameable(const std::string& kernel, const std::string& asked, const CacheName& cn,
                    const NamingAbility& can) {
  const std::string which = asked == kernel ? "'" + kernel + "'" : "'" + asked + "' (merged into " + kernel + ")";
  const std::string here = can.release.empty() ? "this kernel" : "this kernel (" + can.release + ")";
  if (cn.kind == CacheName::Kind::other && !can.named_alloc)
    throw usage_error("cache " + which + " is filled by kmem_cache_alloc, whose events name their cache only "
                      "from Linux 6.0 on; " + here + " cannot tell its caches apart by the event (--method derived): "
                      "leave --method at auto, which names it from the object's slab");
  // Only --method derived guesses: it would file these under whichever of
  // kmalloc-N / kmalloc-cg-N the gfp flags point at, so no cache is the
  // right one to name instead; the exact methods work on every kernel.
  if ((cn.kind == CacheName::Kind::random || cn.kind == CacheName::Kind::bucket) && !can.exact_kmalloc) {
    const std::string sz = size_suffix(cn.size_class);
    throw usage_error("cache " + which + " cannot be told apart from kmalloc-" + sz + " and kmalloc-cg-" + sz +
                      " by size and gfp flags (--method derived): leave --method at auto, which names the "
                      "cache of every object from its slab on every kernel");
  }
}

}  // namespace

bool is_cache_glob(const std::string& arg) { return arg.find_first_of("*?[") != std::string::npos; }

uint64_t slk_name_hash(const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < name.size() && i < SLK_CACHE_NAME_LEN; ++i) {
    if (name[i] == '\0') break;
    h ^= static_cast<uint8_t>(name[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::vector<CacheSelection> select_caches(const std::vector<std::string>& requested, const HostCaches& host,
                                          const NamingAbility& can) {
  if (requested.empty()) throw usage_error("no cache selected: pass --cache NAME (e.g. --cache kmalloc-2k)");
  const Resolver r(host);
  const auto& names = r.names();
  std::vector<CacheSelection> out;
  std::set<std::string> args;
  for (const auto& arg : requested) {
    if (!args.insert(arg).second) throw usage_error("cache '" + printable(arg) + "' given twice");
    if (arg.size() >= SLK_CACHE_NAME_LEN && !is_cache_glob(arg))
      throw usage_error("cache name '" + printable(arg) + "' is too long (max " + std::to_string(SLK_CACHE_NAME_LEN - 1) + ")");
    std::vector<Resolved> members;
    std::string family;
    if (is_cache_glob(arg)) {
      std::set<std::string> kernels;
      for (const auto& n : r.all_names()) {
        if (fnmatch(arg.c_str(), n.c_str(), 0) != 0) continue;
        Resolved m = r.resolve(n);
        // A glob that matches a cache under its own name does not also
        // select it again through its merged names.
        if (!kernels.insert(m.kernel).second) continue;
        if (!m.merged_as.empty() && fnmatch(arg.c_str(), m.kernel.c_str(), 0) == 0) m.merged_as.clear();
        members.push_back(m);
      }
      if (members.empty())
        throw usage_error("--cache '" + printable(arg) + "' matches no cache in /proc/slabinfo or /sys/kernel/slab "
                          "('slableak caches' lists them all)");
      family = arg;
    } else {
      members.push_back(r.resolve(arg));
      // With CONFIG_RANDOM_KMALLOC_CACHES a plain kmalloc is spread over
      // kmalloc-N and kmalloc-rnd-01-N .. -15-N: the name means them all.
      const CacheName cn = classify_cache_name(members[0].kernel, names);
      if (cn.kind == CacheName::Kind::kmalloc && cn.type == KmallocType::normal) {
        for (const auto& n : names) {
          const CacheName m = classify_cache_name(n, names);
          if (m.kind == CacheName::Kind::random && m.size_class == cn.size_class) members.push_back({n, ""});
        }
        if (members.size() > 1) family = arg;
      }
    }
    for (const auto& m : members) {
      if (m.kernel.size() >= SLK_CACHE_NAME_LEN)
        throw usage_error("cache '" + m.kernel + "' has a name longer than " + std::to_string(SLK_CACHE_NAME_LEN - 1) +
                          " bytes, which slableak cannot compare: leave it out of --cache '" + printable(arg) + "'");
      const CacheName cn = classify_cache_name(m.kernel, names);
      check_nameable(m.kernel, m.merged_as.empty() ? m.kernel : m.merged_as, cn, can);
      auto it = std::find_if(out.begin(), out.end(), [&](const CacheSelection& c) { return c.name == m.kernel; });
      if (it == out.end()) {
        CacheSelection c;
        c.name = m.kernel;
        c.family = family;
        c.shares_with = r.merged_names(m.kernel);
        c.named = cn.kind == CacheName::Kind::other;
        if (cn.kind == CacheName::Kind::large) {
          // Any request above the largest kmalloc cache, whatever its gfp
          // type; each object's bytes are the pages the event reports.
          c.req_lo = largest_kmalloc_class(names);
          c.req_hi = UINT32_MAX;
          c.type = KmallocType::large;
        } else {
          c.obj_size = find_cache(host.slabinfo, m.kernel)->objsize;
        }
        if (!c.named && cn.kind != CacheName::Kind::large) {
          c.req_lo = size_class_lower_bound(cn.size_class, names);
          c.req_hi = cn.size_class;
          c.type = cn.type;
        }
        out.push_back(std::move(c));
        it = out.end() - 1;
      } else if (it->family.empty()) {
        it->family = family;
      }
      append_unique(it->requested, arg);
      append_unique(it->merged_as, m.merged_as);
    }
  }
  if (out.size() > SLK_MAX_CACHES)
    throw usage_error("--cache selects " + std::to_string(out.size()) + " caches; at most " +
                      std::to_string(SLK_MAX_CACHES) + " at once: narrow the glob or pass fewer names");
  return out;
}

std::vector<CacheSelection> select_caches(const std::vector<std::string>& requested,
                                          const std::vector<SlabCache>& slabinfo, bool exact) {
  return select_caches(requested, HostCaches{slabinfo, {}}, NamingAbility{exact, exact, ""});
}

}  // namespace slableak
