// The seam between a session and the kernel: what the session asks of the
// BPF side, as plain values. kernel/bpf_tracer.h is the real one; tests use
// a fake, so the join of kernel rows, symbols and slabinfo is unit-tested.
#pragma once
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

#include "kernel_read.h"
#include "slableak.h"

namespace slableak {

struct MapCapacity {
  uint64_t live = 0, aggregates = 0, stacks = 0;
};

class TraceSource {
 public:
  virtual ~TraceSource() = default;
  // One read of the kernel maps. @want_stack: which stack ids to fetch
  // frames for (default: all); KernelRead::stored_stacks lists every stored id.
  virtual KernelRead read(const std::function<bool(uint32_t)>& want_stack) = 0;
  // Deletes aggregate keys whose epochs are over and empty (see Aggregator).
  virtual void retire(const std::vector<slk_agg_key>& keys) = 0;
  virtual void set_epoch_shift(uint32_t shift) = 0;
  // Deletes retired stacks: the fingerprints that map to them, then their
  // frames. Returns how many stored stacks were deleted.
  virtual size_t retire_stacks(const std::vector<uint32_t>& ids) = 0;
  // Hands new allocation sites to the stack fingerprint cache; returns how
  // many were learned.
  virtual size_t learn_sites() = 0;
  virtual MapCapacity capacity() const = 0;
  // Kernel memory charged for the maps.
  virtual uint64_t kernel_map_bytes() const = 0;
  // With TraceOptions::filter_tasks: count the allocations of process
  // @tgid and of every process it forks from now on.
  virtual void allow_task(uint32_t tgid) {
    (void)tgid;
    throw std::logic_error("this trace source cannot follow a process tree");
  }
  // Processes of the followed tree that could not be added (filter full).
  virtual uint64_t tasks_not_followed() const { return 0; }
};

}  // namespace slableak
