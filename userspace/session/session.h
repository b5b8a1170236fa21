// A tracing session: checks the host, starts the tracer, and turns kernel
// reads into Snapshots. Shared by snapshot, top and export.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "aggregation.h"
#include "bpf_tracer.h"
#include "slabinfo.h"
#include "snapshot.h"
#include "symbolizer.h"

namespace slableak {

struct SessionOptions {
  std::vector<std::string> caches{"kmalloc-2k"};
  std::string method = "auto";  // auto | kfunc | derived
  bool bench_floor = false;
  bool bench_floor_alloc = false;
  bool stack_cache = true;      // fingerprint known paths instead of unwinding each allocation     // attach programs that return at once (benchmark only)
  uint64_t max_tracked = 1'000'000;
  uint32_t max_stacks = 16384;
  uint32_t max_aggregates = 65536;
  uint32_t sample_every = 1;
  bool show_addresses = false;
  double growth_window_s = 60;
};

class Session {
 public:
  // Throws an Error (usage or environment) before anything is attached if
  // the host or the options are not usable.
  explicit Session(const SessionOptions& opt);
  ~Session();

  Snapshot collect(double min_age_s = 0);
  // Sleeps up to @d, meanwhile handing new allocation sites to the stack
  // fingerprint cache every 250 ms so that it does not wait for a report.
  // Returns false as soon as a stop (SIGINT/SIGTERM) is requested.
  bool wait(std::chrono::nanoseconds d);
  const std::string& method() const { return method_; }
  const std::string& kernel_release() const { return kernel_release_; }
  double elapsed_s() const;
  double attach_ms() const { return attach_ms_; }
  uint64_t kernel_map_bytes() const { return tracer_->kernel_map_bytes(); }

 private:
  SessionOptions opt_;
  std::string method_;
  std::string kernel_release_;
  std::vector<CacheSelection> selection_;
  std::vector<SlabCache> slab_start_;
  std::unique_ptr<Symbolizer> symbolizer_;
  std::unique_ptr<Aggregator> aggregator_;
  std::unique_ptr<BpfTracer> tracer_;
  uint64_t start_ns_ = 0;
  double attach_ms_ = 0;
};

// /proc/slabinfo of this host, parsed (needs root).
std::vector<SlabCache> read_slabinfo();
double monotonic_seconds();

}  // namespace slableak
