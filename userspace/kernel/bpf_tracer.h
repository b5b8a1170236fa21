// The one owner of the BPF skeleton: open -> configure -> load -> attach in
// the constructor, detach and free in the destructor. libbpf's negative errno
// becomes an Error here and nowhere else.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache_selection.h"
#include "kernel_read.h"

struct slableak_bpf;

namespace slableak {

// floor / floor_alloc: benchmark only, programs that return at once (on
// kmalloc and kfree / on kmalloc alone).
enum class ProgramSet { kfunc, derived, floor, floor_alloc };

struct TracerConfig {
  std::vector<CacheSelection> caches;
  ProgramSet programs = ProgramSet::kfunc;
  bool kmalloc_node_event = false;
  uint64_t max_tracked = 1'000'000;
  uint32_t max_stacks = 16384;
  uint32_t max_aggregates = 65536;
  uint32_t sample_every = 1;
  bool stack_cache = true;  // fingerprint known paths instead of unwinding each
};

struct MapCapacity {
  uint64_t live = 0, aggregates = 0, stacks = 0;
};

class BpfTracer {
 public:
  explicit BpfTracer(const TracerConfig& cfg);
  ~BpfTracer();
  BpfTracer(const BpfTracer&) = delete;
  BpfTracer& operator=(const BpfTracer&) = delete;

  // @want_stack: which stack ids to fetch frames for (default: all of them);
  // KernelRead::stacks_in_use counts them all either way.
  KernelRead read(const std::function<bool(uint32_t)>& want_stack = {});
  // Deletes aggregate keys whose epochs are over and empty (see Aggregator).
  void retire(const std::vector<slk_agg_key>& keys);
  void set_epoch_shift(uint32_t shift);
  // Turns the kernel's learning samples into site offsets for the stack
  // fingerprint cache (bpf/stack_cache.h); returns how many were learned.
  size_t learn_sites();
  MapCapacity capacity() const { return cap_; }
  // Kernel memory charged for our maps (memlock in fdinfo).
  uint64_t kernel_map_bytes() const;

 private:
  slableak_bpf* skel_ = nullptr;
  std::unordered_map<uint64_t, slk_site> first_sample_;  // call_site -> offsets from its first sample
  MapCapacity cap_;
  size_t last_agg_rows_ = 0;  // to size the next read's row vector
  int ncpus_ = 1;
};

}  // namespace slableak
