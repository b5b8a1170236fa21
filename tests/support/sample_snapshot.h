// The made-up run that unit tests, ops tests and benchmarks start from: one
// followed cache, kmalloc-2k with 2048-byte objects, and the run's metadata.
// Each caller then adds its stacks and sets the fields its check is about, so
// a field added to Snapshot or CacheHeader is filled in one place.
#pragma once

#include <cstdint>
#include <string>

#include "snapshot.h"

namespace slableak {

inline Snapshot sample_snapshot(const std::string& method = "kfunc", double elapsed_s = 30,
                                uint32_t sample_every = 1) {
  Snapshot s;
  s.unix_time = 1700000000;
  s.elapsed_s = elapsed_s;
  s.method = method;
  s.arch = "x86_64";
  s.kernel_release = "6.12.0-test";
  s.sample_every = sample_every;
  CacheHeader c;
  c.name = "kmalloc-2k";
  c.object_size = 2048;
  s.caches.push_back(c);
  return s;
}

}  // namespace slableak
