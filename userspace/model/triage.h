// `slableak triage`: from "unreclaimable slab grows" to the caches worth
// following. Pure: two samples of /proc/slabinfo and SUnreclaim in, a
// verdict with its figures out (cli/cmd_triage.cpp takes the samples and
// follows what it picks).
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "slabinfo.h"

namespace slableak {

struct TriageSample {
  std::vector<SlabCache> slabinfo;
  int64_t sunreclaim_bytes = -1;  // /proc/meminfo SUnreclaim; -1 if unknown
  int64_t slab_bytes = -1;        // /proc/meminfo Slab; -1 if unknown
  uint64_t page_size = 4096;
};

// The bytes of kmalloc-large objects the kernel holds now: /proc/meminfo
// Slab: (which counts large kmallocs' pages since 5.9, in SUnreclaim)
// minus the pages of every /proc/slabinfo line. -1 when a figure is missing.
// It counts every large kmalloc on the host, and moves with the per-CPU lag
// of the kernel's vmstat counters (a few hundred KiB): compare deltas.
int64_t large_kmalloc_bytes(const TriageSample& s);

struct CacheGrowth {
  std::string name;
  uint32_t object_size = 0;
  int64_t objects = 0;  // active_objs change (now: active_objs, for the largest list); 0 for kmalloc-large
  int64_t bytes = 0;    // objects * object_size
  double share = 0;     // of the unreclaimable growth, 0..1
};

struct TriageVerdict {
  double window_s = 0;
  int64_t sunreclaim_delta = 0;  // bytes; 0 if unknown
  int64_t growth_bytes = 0;      // sum of the unreclaimable caches that grew
  bool growing = false;
  std::vector<CacheGrowth> picked;   // explain most of the growth, largest first
  std::vector<CacheGrowth> largest;  // no growth: largest unreclaimable caches now
};

// Below this much growth of unreclaimable caches in the window, nothing is
// called a leak: per-CPU slabs alone move /proc/slabinfo by that much.
inline constexpr int64_t kTriageMinGrowthBytes = 256 * 1024;

// @reclaimable: caches whose memory counts as SReclaimable (dentry, inodes:
// SLAB_RECLAIM_ACCOUNT); they are left out. Picks the fewest caches, at
// most @max_caches, whose growth adds up to 80% of the unreclaimable growth
// (each at least 5% of it).
TriageVerdict triage(const TriageSample& before, const TriageSample& after, double window_s,
                     const std::set<std::string>& reclaimable, size_t max_caches);

// The verdict as lines for a person: what grew, by how much, what is followed.
std::string describe_triage(const TriageVerdict& v);

// SUnreclaim from the text of /proc/meminfo, in bytes; -1 if absent.
int64_t parse_sunreclaim(const std::string& meminfo);
// Any "Key:" of /proc/meminfo (kB) in bytes, e.g. "Slab:"; -1 if absent.
int64_t parse_meminfo_bytes(const std::string& meminfo, const std::string& key);

}  // namespace slableak
