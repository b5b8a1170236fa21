// argv -> a typed, validated RunConfig, before anything touches the kernel.
// Pure: no BPF, no /proc, no root check, so every bad option is reported as
// a usage error (exit 2, one line naming the option) whoever runs us, and is
// unit-tested without root. Host-dependent checks (the cache exists, the
// kernel can name it, memory for the maps) come later, in live_session.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aggregation.h"
#include "capture_plan.h"
#include "ingest_request.h"
#include "report.h"
#include "trace_config.h"

namespace slableak {

enum class Command { snapshot, top, export_metrics, caches, check, triage, run, diff, captures };

struct ReportConfig {
  std::chrono::duration<double> duration{30};
  std::chrono::duration<double> min_age{0};
  std::chrono::duration<double> interval{2};
  size_t top = 20;  // 0 = all
  Format format = Format::table;
  SortKey sort = SortKey::verdict;  // leaking first, then bytes
};

struct ExportConfig {
  std::chrono::duration<double> interval{15};
  std::string textfile_dir = "/var/lib/prometheus/node-exporter";
  bool textfile = true;
  bool once = false;
  std::string listen;  // "HOST:PORT", checked; empty: no HTTP endpoint
  size_t top_stacks = 20;
  // The flight recorder (--capture-dir; "" = off): see cli/capture.h.
  std::string capture_dir;
  size_t capture_keep = 10;
  uint64_t capture_max_bytes = uint64_t{256} << 20;
  bool capture_on_oom = true;
  std::optional<SizeOrShare> capture_sunreclaim;
  std::optional<GrowthRule> capture_growth;
  bool capture_on_leaking = false;
  std::string push_pprof;  // --push-pprof as given; empty: no push
  HttpUrl push_url;        // parsed from it (numeric host)
  std::chrono::duration<double> push_interval{15};  // --push-interval, default the --interval
};
inline constexpr Range kCaptureKeepRange{1, 1000};
// As the user would type them: the defaults of ExportConfig above.
inline constexpr const char* kDefaultCaptureKeep = "10";
inline constexpr const char* kDefaultCaptureMaxBytes = "256M";

struct TriageConfig {
  std::chrono::duration<double> window{10};  // how long slabinfo is watched
  size_t max_caches = 3;                     // followed at most
};
inline constexpr Range kTriageMaxCachesRange{1, 16};

// slableak run [options] -- COMMAND [ARGS]
struct CommandRunConfig {
  std::vector<std::string> argv;             // COMMAND [ARGS], at least COMMAND
  std::chrono::duration<double> settle{1};   // traced after COMMAND exits
};

// slableak diff BEFORE.json AFTER.json
struct DiffConfig {
  std::string before, after;  // files as named
  Format format = Format::table;  // table or json
  size_t top = 20;                // changed stacks listed; 0 = all
};

// slableak captures [DIR]
struct CapturesConfig {
  std::string dir = "/var/lib/slableak/captures";
};

// --ready-fd: the descriptor that gets one JSON line once tracing is on. It
// is closed after that line, so 0-2 are refused: closing stdout would lose the
// report, and a closed stderr is reused by the next open() or accept(), which
// would then receive the log.
inline constexpr Range kReadyFdRange{3, 1'048'575};

struct RunConfig {
  Command command = Command::snapshot;
  int ready_fd = -1;  // -1: no readiness line
  CommandRunConfig run;
  TraceOptions trace;
  ReportConfig report;
  ExportConfig exporter;
  TriageConfig triage;
  DiffConfig diff;
  CapturesConfig captures;
};

// What parsing decided: run @config, or print @text and exit with @exit_code
// (--help, --version).
struct ParseResult {
  std::optional<RunConfig> config;
  std::string text;
  int exit_code = 0;
};

// Throws a usage Error (one line, naming the option and the fix).
// `slableak --dump-options-json` (hidden) returns the option table as JSON
// in @text: every command's options as the parser defines them, their
// defaults, limits and choices, and the exit codes. tests/ops checks
// docs/cli.md and the man page against it.
ParseResult parse_run_config(int argc, const char* const* argv);

// What the parser enforces on an option's value beyond its syntax; the
// unit tests check each entry against parse_run_config itself.
struct OptionLimit {
  const char* name;
  enum Kind { count, duration, duration_or_zero } kind;
  Range range;  // count: inclusive; durations: seconds, (0 or min, max]
};
const std::vector<OptionLimit>& option_limits();
// Accepted values of the options that take one of a few words.
const std::vector<std::pair<std::string, std::vector<std::string>>>& option_choices();

}  // namespace slableak
