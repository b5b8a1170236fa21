// Report outputs. Each writes one Snapshot to a stream; the snapshot's stacks
// are already sorted, and @top limits how many are written (0 = all).
#pragma once
#include <ostream>
#include <string>

#include "snapshot.h"

namespace slableak {

enum class Format { table, json, folded, svg, html, pprof };
Format parse_format(const std::string& s);  // throws a usage Error

void write_table(std::ostream& os, const Snapshot& s, size_t top);
void write_json(std::ostream& os, const Snapshot& s, size_t top);
void write_folded(std::ostream& os, const Snapshot& s, size_t top);
void write_svg(std::ostream& os, const Snapshot& s, size_t top);   // flamegraph_svg.h
void write_html(std::ostream& os, const Snapshot& s, size_t top);  // report_html.h
void write_pprof(std::ostream& os, const Snapshot& s, size_t top);  // pprof_profile.h (gzipped)
void write_report(std::ostream& os, const Snapshot& s, Format f, size_t top);

}  // namespace slableak
