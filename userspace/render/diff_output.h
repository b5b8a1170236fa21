// `slableak diff` output: a ReportDiff as a table for people or JSON for
// scripts (its own contract, docs/json.md "slableak diff").
#pragma once
#include <ostream>

#include "report_diff.h"

namespace slableak {

// The diff's JSON contract version ("diff_schema_version"), separate from
// the report's: the two documents evolve on their own.
inline constexpr int kDiffSchemaVersion = 1;

// @top: changed stacks listed (0 = all); unchanged ones are only counted in
// the table, listed after the changed ones in JSON within the same limit.
void write_diff_table(std::ostream& os, const RecordedReport& before, const RecordedReport& after,
                      const ReportDiff& d, size_t top);
void write_diff_json(std::ostream& os, const RecordedReport& before, const RecordedReport& after,
                     const ReportDiff& d, size_t top);

}  // namespace slableak
