// slableak diff: what changed between two recorded reports (their JSON,
// read back by render/report_reader.h). Stacks are matched by their stable
// id, which is the same across restarts and hosts running one kernel build;
// stacks left over are matched by their functions without offsets, so a
// report from a rebuilt kernel (offsets moved) still lines up. Pure.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slableak {

// The JSON contract version this slableak writes and reads (docs/json.md).
inline constexpr int kReportSchemaVersion = 1;

// One report as diff reads it: only what a comparison needs.
struct RecordedStack {
  std::string cache;
  std::string task;  // the allocating task with --by, "" without
  std::string stack_id;
  std::vector<std::string> frames;  // innermost first, as printed
  int64_t objects = 0;
  int64_t bytes = 0;
  std::string verdict;  // "" in reports made before verdicts
};

struct RecordedCache {
  std::string name;
  int64_t objects = 0;  // attributed (all stacks, not only those listed)
  int64_t bytes = 0;
};

struct RecordedReport {
  std::string source;  // the file, as named on the command line
  int schema_version = 0;
  double time = 0;       // Unix time of the report
  double elapsed_s = 0;  // traced for
  std::string method;    // cache method: kfunc or derived
  std::string by;        // --by: "comm", "pid", "cgroup", or "" (not grouped)
  uint32_t sample_every = 1;
  std::vector<RecordedCache> caches;
  std::vector<RecordedStack> stacks;
  // Stacks the report had before --top cut its list; absent in reports
  // written before the field existed.
  std::optional<uint64_t> stacks_total;
};

enum class Change { appeared, disappeared, grew, shrank, unchanged };
const char* change_name(Change c);  // "appeared", ...

enum class MatchedBy {
  none,       // on one side only
  stack_id,   // same stable id: same frames, offsets included
  functions,  // same functions, offsets differ (another build of the kernel)
};
const char* matched_by_name(MatchedBy m);  // "", "stack_id", "functions"

struct DiffRow {
  Change change = Change::unchanged;
  MatchedBy matched_by = MatchedBy::none;
  std::string cache;
  std::string task;
  // AFTER's frames (BEFORE's if it is gone); function names only when the
  // two sides were matched by functions.
  std::vector<std::string> frames;
  std::vector<std::string> ids_before, ids_after;  // stable ids on each side
  int64_t objects_before = 0, objects_after = 0;
  int64_t bytes_before = 0, bytes_after = 0;
  std::string verdict_before, verdict_after;  // "" where the side has none (or several stacks)
  int64_t objects_delta() const { return objects_after - objects_before; }
  int64_t bytes_delta() const { return bytes_after - bytes_before; }
};

struct CacheDiff {
  std::string name;
  bool in_before = false, in_after = false;  // followed by that report
  int64_t objects_before = 0, objects_after = 0;
  int64_t bytes_before = 0, bytes_after = 0;
};

struct ReportDiff {
  std::vector<CacheDiff> caches;  // BEFORE's order, then caches only AFTER followed
  // Largest change in bytes first, unchanged last. A stack with no objects
  // on either side is not a row.
  std::vector<DiffRow> rows;
  // What limits the comparison, one sentence each (a cache followed on one
  // side only, a list cut by --top, sampling, stacks matched by functions).
  std::vector<std::string> notes;
  size_t count(Change c) const;
};

// Throws a usage Error when the two cannot be compared: different JSON
// contract versions, a version this slableak does not read, different --by.
ReportDiff diff_reports(const RecordedReport& before, const RecordedReport& after);

}  // namespace slableak
