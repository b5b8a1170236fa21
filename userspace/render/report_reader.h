// The JSON contract (docs/json.md) read back, for `slableak diff`: the
// inverse of write_json for what a comparison needs. Lives next to the
// writer so the two stay one contract.
#pragma once
#include <string>
#include <string_view>

#include "report_diff.h"

namespace slableak {

// @text is the whole file, @source its name for messages. Throws a usage
// Error, one line naming the file and what is wrong, for anything that is
// not a slableak JSON report. A report of another contract version is
// returned with only schema_version filled, for diff_reports to refuse with
// both versions named.
RecordedReport read_report_json(std::string_view text, const std::string& source);

}  // namespace slableak
