// The flight recorder's decisions, without any I/O: what a capture is
// called, which old captures go, and when a trigger fires. The exporter
// (cli/cmd_export.cpp) feeds these the host's numbers and the store
// (publish/capture_store.h) does the writing; everything here is
// unit-tested against made-up hosts (tests/unit/capture_plan_test.cpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fixed_ring.h"
#include "snapshot.h"

namespace slableak {

// Why a capture was written. The name is part of the directory name and the
// label of slableak_captures_total{trigger}.
enum class CaptureTrigger { signal, oom, sunreclaim, growth, leaking };
inline constexpr CaptureTrigger kCaptureTriggers[] = {CaptureTrigger::signal, CaptureTrigger::oom,
                                                      CaptureTrigger::sunreclaim, CaptureTrigger::growth,
                                                      CaptureTrigger::leaking};
inline constexpr size_t kCaptureTriggerCount = std::size(kCaptureTriggers);
const char* capture_trigger_name(CaptureTrigger t);  // "sigusr1", "oom", ...
std::optional<CaptureTrigger> parse_capture_trigger(std::string_view name);

// "20261206T165512.345Z-oom": UTC to the millisecond, then the trigger.
// Names sort in time order, so the oldest capture is the first name.
std::string capture_name(double unix_time, CaptureTrigger t);
struct CaptureName {
  double unix_time = 0;
  CaptureTrigger trigger = CaptureTrigger::signal;
};
// Anything not made by capture_name (the temporary ".tmp-" directories, a
// file an operator left there) is not a capture: nullopt.
std::optional<CaptureName> parse_capture_name(std::string_view name);

// A capture already on disk, for retention.
struct StoredCapture {
  std::string name;
  uint64_t bytes = 0;
};
// Which captures to delete, oldest first, so that at most @keep remain and
// their bytes sum to at most @max_bytes; the newest OOM capture is chosen
// only when nothing else is left to choose. The newest capture is never chosen
// (a capture larger than the cap still replaces all older ones rather than
// deleting itself). Names that are not captures are never chosen.
std::vector<std::string> captures_to_remove(std::vector<StoredCapture> stored, size_t keep, uint64_t max_bytes);

// Captures waiting for the writer, oldest first: the one to drop when one
// more arrives and the queue is full. The oldest that is not an OOM capture;
// if all are, the oldest (a newer OOM capture says more). Empty: none.
std::optional<size_t> waiting_capture_to_drop(const std::vector<CaptureTrigger>& waiting);

// A level trigger with hysteresis: fires when the value reaches @fire_at
// and is armed; disarms; arms again only once the value has fallen below
// @rearm_below. A host stuck above the line writes one capture, not one
// per interval.
class LevelTrigger {
 public:
  LevelTrigger(double fire_at, double rearm_below) : fire_at_(fire_at), rearm_below_(rearm_below) {}
  bool update(double value);
  bool armed() const { return armed_; }

 private:
  double fire_at_, rearm_below_;
  bool armed_ = true;
};

// Growth faster than @bytes within @window_s: the change of a level (e.g.
// SUnreclaim) between the oldest sample still inside the window and the
// newest. It judges only once the samples span the whole window (a
// starting exporter has no rate yet), then behaves as a LevelTrigger on
// the growth (fires at @bytes, re-arms below half of it). Samples are kept
// in a ring of fixed size: memory does not grow with the window.
class GrowthTrigger {
 public:
  static constexpr size_t kMaxSamples = 1024;
  GrowthTrigger(double bytes, double window_s);
  // @t_s: monotonic seconds; @value: the level now. True: fire.
  bool update(double t_s, double value);
  // Growth over the window at the last update; nullopt until the window is full.
  std::optional<double> growth() const { return growth_; }

 private:
  double window_s_;
  LevelTrigger level_;
  FixedRing<std::pair<double, double>> samples_;
  std::optional<double> growth_;
};

// "30%" of MemTotal or a size in bytes ("2G", "512M", "1000000").
struct SizeOrShare {
  double share = 0;    // 0 < share <= 1 when given in percent
  uint64_t bytes = 0;  // when given as a size
  uint64_t resolve(uint64_t mem_total) const {
    return share > 0 ? static_cast<uint64_t>(share * static_cast<double>(mem_total)) : bytes;
  }
};
// Throws a usage Error naming @what and the accepted forms.
SizeOrShare parse_size_or_share(std::string_view text, std::string_view what);
// "1536", "64K", "512M", "2G", "1T" (powers of 1024; "KiB" etc. also taken).
uint64_t parse_size(std::string_view text, std::string_view what);
// "512M/10m": bytes per window. Throws a usage Error.
struct GrowthRule {
  uint64_t bytes = 0;
  double window_s = 0;
};
GrowthRule parse_growth_rule(std::string_view text, std::string_view what);

// Fires when a stack is judged `leaking` that was not leaking in any
// earlier snapshot (by cache and stack id). The set of stacks seen leaking
// is bounded (kMaxRemembered): past it the oldest half is forgotten, which
// at worst writes one more capture for a stack seen long ago.
class LeakingTrigger {
 public:
  static constexpr size_t kMaxRemembered = 4096;
  // The first stack newly leaking ("cache stack_id"), or "" if none.
  std::string update(const Snapshot& s);
  size_t remembered() const { return seen_.size(); }

 private:
  std::set<std::string> seen_;
  std::vector<std::string> order_;
};

// A "Key:  N kB" line of /proc/meminfo in bytes; -1 if absent.
int64_t meminfo_bytes(std::string_view meminfo, std::string_view key);

// Who the OOM killer picked (from the BPF program on oom:mark_victim and,
// where that does not say, /proc/PID).
struct OomVictim {
  int32_t pid = 0;
  std::string comm;    // "" if unknown
  std::string cgroup;  // cgroup v2 path, or "id N"; "" if unknown
  // When the kernel marked the victim: bpf_ktime_get_ns() in the event
  // (CLOCK_MONOTONIC, the clock of dmesg's timestamps on a host that never
  // suspended), and the same instant on the wall clock, converted with the
  // CLOCK_REALTIME - CLOCK_MONOTONIC offset read when the event was read.
  // 0 if unknown (a manifest written before these fields).
  double monotonic_s = 0;
  double unix_time = 0;
};

// What a capture records about itself (capture.json), and what
// `slableak captures` lists.
struct CaptureSummary {
  std::string name;
  double unix_time = 0;
  CaptureTrigger trigger = CaptureTrigger::signal;
  std::string reason;  // the trigger's words: "SIGUSR1", "SUnreclaim 31% >= 30%", ...
  std::optional<OomVictim> victim;
  // The heaviest stack of the report (verdict order: leaking first, then bytes).
  std::string top_cache, top_stack_id, top_frame, top_verdict;
  int64_t top_bytes = 0;
  int64_t total_bytes = 0;  // outstanding bytes attributed, all caches
  double collect_ms = 0;    // from the trigger to the report being taken
  // CLOCK_MONOTONIC when the report was taken (unix_time on that clock);
  // with victim->monotonic_s it gives the delay from the OOM kill. 0 if unknown.
  double monotonic_s = 0;
  std::vector<std::string> files;
};
// Milliseconds from the kernel marking the OOM victim to the capture's
// report, both on CLOCK_MONOTONIC; nullopt unless both times are known.
std::optional<double> oom_to_report_ms(const CaptureSummary& c);
// Fills the report part of a summary from a snapshot sorted by verdict.
void summarize_capture(const Snapshot& s, CaptureSummary* out);

}  // namespace slableak
