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

#include "task_names.h"
#include "cache_selection.h"
#include "kernel_read.h"
#include "live_tally.h"
#include "agg_slots.h"
#include "map_view.h"
#include "prog_stats.h"
#include "program_plan.h"
#include "trace_config.h"
#include "trace_source.h"

struct slableak_bpf;

namespace slableak {

struct TracerSetup {
  std::vector<CacheSelection> caches;
  ProgramPlan plan;       // which programs load and attach (model/program_plan.h)
  bool cg_caches = true;  // kmalloc-cg-* exist (5.14+): derived method files accounted kmallocs there
  // The text of bpf_trace_run1..12 (symbols/bpf_dispatcher.h): the kernel
  // side drops those frames before it names a stack. 0, 0: not known.
  uint64_t dispatch_lo = 0, dispatch_hi = 0;
};

class BpfTracer final : public TraceSource {
 public:
  BpfTracer(const TraceOptions& opt, const TracerSetup& setup);
  ~BpfTracer() override;
  BpfTracer(const BpfTracer&) = delete;
  BpfTracer& operator=(const BpfTracer&) = delete;

  KernelRead read(const std::function<bool(uint32_t)>& want_stack = {}) override;
  void retire(const std::vector<slk_agg_key>& keys) override;
  void set_epoch_shift(uint32_t shift) override;
  size_t retire_stacks(const std::vector<uint32_t>& ids) override;
  // Turns the kernel's learning samples into site offsets for the stack
  // fingerprint cache (bpf/stack_cache.h).
  size_t learn_sites() override;
  MapCapacity capacity() const override { return cap_; }
  // How many large-kmalloc pairs agreed on the slab walk's page_delta (slab
  // method; 0 otherwise).
  unsigned calibration_votes() const { return calib_votes_; }
  // Kernel memory charged for our maps (memlock in fdinfo).
  uint64_t kernel_map_bytes() const override;
  void allow_task(uint32_t tgid) override;
  // Every program of the loaded object with its fd (negative: not loaded).
  std::vector<ProgramFd> program_fds() const;
  uint64_t tasks_not_followed() const override;

 private:
  struct SkeletonDeleter {
    void operator()(slableak_bpf* s) const;
  };
  // Destroying the skeleton detaches and unloads everything it loaded.
  std::unique_ptr<slableak_bpf, SkeletonDeleter> skel_;
  std::unordered_map<uint64_t, slk_site> first_sample_;  // call_site -> offsets from its first sample
  MapCapacity cap_;
  size_t last_agg_rows_ = 0;  // to size the next read's row vector
  // --by: slot names, at most SLK_MAX_TASK_SLOTS
  std::unique_ptr<TaskNames> task_names_;
  std::unordered_map<uint8_t, std::string> task_name_of_slot_;
  int ncpus_ = 1;
  unsigned calib_votes_ = 0;
  // The array live table (plan.live_array): its bucket count, 0 without.
  size_t live_buckets_ = 0;
  LiveCounts count_live_table() const;
  // The aggregate table (with the live table): its slot count, 0 without;
  // and where the last read found each key, for retire().
  size_t agg_slots_ = 0;
  AggSlots last_agg_slots_;
  AggSlots read_agg_slots() const;

  void calibrate_slab_walk(const ProgramPlan& plan);
};

}  // namespace slableak
