// The flight recorder of `export --capture-dir DIR`: when a trigger fires it
// writes one capture directory (publish/capture_store.h) holding
//   report.json    the report, as `snapshot --format json` writes it (all
//                  stacks), so `slableak diff` reads it
//   flamegraph.svg the flame graph of the same report
//   profile.pb.gz  the same report as a gzipped pprof profile (all stacks)
//   meminfo        /proc/meminfo at the capture
//   slabinfo       /proc/slabinfo at the capture
//   metrics.prom   the Prometheus text at the capture: the tracer's health
//                  (dropped events, map fill, kernel memory) with the rest
//   capture.json   the manifest: trigger, reason, OOM victim (and when the
//                  kernel marked it), top stack, when the report was taken
//
// Triggers (model/capture_plan.h holds their state machines):
//   sigusr1     SIGUSR1: capture now
//   oom         the OOM killer marked a victim (kernel/oom_watch.h)
//   sunreclaim  SUnreclaim reached --capture-when-sunreclaim; re-armed
//               once it falls below 90% of that
//   growth      SUnreclaim grew by BYTES within WINDOW
//               (--capture-when-growth); re-armed below half of BYTES
//   leaking     a stack judged `leaking` for the first time (--capture-on-leaking)
// sigusr1 and oom are answered within the exporter's 100 ms wait slice with
// a fresh collection; the others are judged on each interval's collection.
//
// The files are rendered on the exporter's loop, and written (fsynced) by a
// writer thread of the recorder's own: under memory pressure an fsync can
// stall for seconds, and the textfile and /metrics must not stall with it.
// At most kMaxQueued captures wait for the writer; past that the oldest
// waiting one that is not an OOM capture is dropped and counted as an error.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "capture_plan.h"
#include "capture_store.h"
#include "prometheus_text.h"
#include "repeated_failure.h"
#include "run_config.h"

namespace slableak {

class OomWatch;

struct PendingCapture {
  CaptureTrigger trigger = CaptureTrigger::signal;
  std::string reason;
  std::optional<OomVictim> victim;
  std::chrono::steady_clock::time_point noticed;
};

class FlightRecorder {
 public:
  // Opens the capture directory: a usage Error before anything is attached.
  explicit FlightRecorder(const ExportConfig& eo);
  ~FlightRecorder();

  // Loads the OOM watcher (after the session: same privileges, before they
  // are dropped). A kernel without the tracepoint, or a refusal, is said
  // once on stderr; the other triggers still work.
  void start_oom_watch();
  CaptureStore& store() { return store_; }

  // SIGUSR1 or an OOM victim since the last call.
  std::optional<PendingCapture> poll();
  // The threshold triggers, on an interval's collection.
  std::optional<PendingCapture> judge(const Snapshot& s, double monotonic_s);
  // Renders a capture of @s (taken for @p) and hands it to the writer
  // thread; @info is what the capture's metrics.prom shows.
  void write(const Snapshot& s, const PendingCapture& p, const ExpositionInfo& info);
  // The writer's counts so far into @info (captures by trigger, errors,
  // time of the last capture), for the next exposition.
  void count_into(ExpositionInfo* info) const;
  // Blocks until every capture handed over has been written or has failed.
  void drain();

  static constexpr size_t kMaxQueued = 2;

 private:
  struct Job {
    CaptureSummary summary;
    std::vector<CaptureFile> files;
    std::chrono::steady_clock::time_point noticed;
  };
  void run_writer();
  void store_one(const Job& job);

  ExportConfig eo_;
  CaptureStore store_;
  std::unique_ptr<OomWatch> oom_;
  uint64_t mem_total_ = 0;
  std::optional<LevelTrigger> sunreclaim_;
  uint64_t sunreclaim_at_ = 0;
  std::optional<GrowthTrigger> growth_;
  std::optional<LeakingTrigger> leaking_;
  RepeatedFailure failures_{std::chrono::minutes(10)};  // the writer's only
  uint64_t oom_lost_reported_ = 0;

  // The writer thread and what it shares with the loop.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool busy_ = false, stop_ = false;
  std::array<std::atomic<uint64_t>, kCaptureTriggerCount> written_{};
  std::atomic<uint64_t> errors_{0};
  std::atomic<double> last_unix_{0};
  std::thread writer_;  // last: started once everything above exists
};

}  // namespace slableak
