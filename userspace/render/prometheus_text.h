// Prometheus text exposition of a Snapshot (format 0.0.4), as read by
// node_exporter's textfile collector and by our own /metrics.
//
// Cardinality is bounded: per cache, at most `top_stacks` stacks by
// outstanding bytes get their own series; the rest are summed under
// stack_id="other". The stack text lives only in slableak_stack_info.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include <array>

#include "capture_plan.h"
#include "snapshot.h"

namespace slableak {

struct ExpositionInfo {
  size_t top_stacks = 20;
  std::string version;
  std::string kernel;
  double last_update_unix = 0;  // time of the last successful collection
  uint64_t write_errors = 0;    // textfile writes that failed so far
  // The flight recorder (export --capture-dir): its series are written only
  // when it is on.
  bool captures = false;
  std::array<uint64_t, kCaptureTriggerCount> captures_total{};  // by CaptureTrigger
  uint64_t capture_errors = 0;    // captures not written whole
  double last_capture_unix = 0;   // 0 until the first capture
  bool push = false;            // --push-pprof: the push counters are exported
  uint64_t pushes = 0, push_failures = 0;
};

std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);

std::string render_prometheus(const Snapshot& s, const ExpositionInfo& info);

}  // namespace slableak
