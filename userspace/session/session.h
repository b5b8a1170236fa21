// A tracing session: turns reads of a TraceSource, /proc/slabinfo and the
// symbol table into Snapshots. Pure: everything it needs from the host is
// handed in (SessionHost), so collect() is unit-tested against a fake
// kernel; cli/live_session.h assembles the real one.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "aggregation.h"
#include "cache_selection.h"
#include "slabinfo.h"
#include "snapshot.h"
#include "symbolizer.h"
#include "trace_source.h"

namespace slableak {

// The host around a session: clocks, /proc/slabinfo, and a sleep that a
// stop request (SIGINT/SIGTERM) cuts short.
struct SessionHost {
  // May throw an Error: a read that fails after start is counted, not fatal.
  std::function<std::vector<SlabCache>()> read_slabinfo;
  std::function<double()> monotonic_s;  // same clock as bpf_ktime_get_ns()
  std::function<double()> unix_s;
  // Sleeps up to @d; false as soon as a stop is requested.
  std::function<bool(std::chrono::nanoseconds)> sleep;
  // /proc/modules and a fresh symbol table: read again when modules came or
  // went since the last read, so their stacks are named (unset: never).
  std::function<std::string()> read_modules;
  std::function<Kallsyms()> read_kallsyms;
};

struct SessionSetup {
  std::vector<std::string> caches;  // by selected-cache index, as the kernel numbers them
  // The same caches with what selected them (--cache name, glob, family,
  // merged name); may be empty, then headers carry the names alone.
  std::vector<CacheSelection> followed;
  std::string method;               // "kfunc", "slab" or "derived"
  std::string arch;                 // "x86_64" or "arm64" (model/target_arch.h)
  std::string stack_fingerprints;   // "on", or "off: <why>" (stack_fingerprints_state)
  uint32_t sample_every = 1;
  double growth_window_s = 60;
  // The length of the run when it is known (snapshot --duration), so that
  // the verdict's history rule fits it (rules_for_run); 0: open-ended.
  double run_s = 0;
  // A stack with nothing outstanding and no allocation for this long is
  // retired in the kernel and here (see Aggregator::set_stack_idle).
  double stack_idle_s = 600;
  std::vector<SlabCache> slab_start;  // /proc/slabinfo when the programs were attached
  double start_s = 0;                 // monotonic time of the attach
  double attach_ms = 0;
  std::string kernel_release;
  std::string by;  // --by: "comm", "pid", "cgroup", or "" (stacks not split by task)
};

class Session {
 public:
  Session(SessionSetup setup, std::unique_ptr<TraceSource> source, std::unique_ptr<Symbolizer> symbolizer,
          SessionHost host);
  ~Session();

  Snapshot collect(double min_age_s = 0);
  // Sleeps up to @d, meanwhile handing new allocation sites to the stack
  // fingerprint cache every 250 ms so that it does not wait for a report.
  // Returns false as soon as a stop is requested.
  bool wait(std::chrono::nanoseconds d);
  const std::string& method() const { return setup_.method; }
  const std::string& kernel_release() const { return setup_.kernel_release; }
  double elapsed_s() const;
  double attach_ms() const { return setup_.attach_ms; }
  uint64_t kernel_map_bytes() const { return source_->kernel_map_bytes(); }
  // State that must stay bounded by the stacks alive (tests).
  size_t symbolized_stacks() const { return symbolizer_->size(); }
  size_t aggregator_stacks() const { return aggregator_.stacks_tracked(); }
  size_t symbol_reloads() const { return symbol_reloads_; }
  // With TraceOptions::filter_tasks: count process @tgid and its descendants.
  void allow_task(uint32_t tgid) { source_->allow_task(tgid); }
  uint64_t tasks_not_followed() const { return source_->tasks_not_followed(); }

 private:
  SessionSetup setup_;
  std::unique_ptr<TraceSource> source_;
  std::unique_ptr<Symbolizer> symbolizer_;
  SessionHost host_;
  Aggregator aggregator_;
  uint64_t slabinfo_errors_ = 0;  // collections whose /proc/slabinfo read was unusable

  void forget_retired_stacks(const KernelRead& read, const std::vector<uint32_t>& retired_now);
  void refresh_symbols();
  std::vector<uint32_t> retiring_;  // retired by the last collect: frames kept one more round
  std::string modules_sig_;         // module names and addresses at the last symbol read
  bool have_modules_sig_ = false;
  size_t symbol_reloads_ = 0;
};

}  // namespace slableak
