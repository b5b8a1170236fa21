#include "report.h"

#include "error.h"

namespace slableak {

Format parse_format(const std::string& s) {
  if (s == "table") return Format::table;
  if (s == "json") return Format::json;
  if (s == "folded") return Format::folded;
  throw usage_error("bad --format '" + s + "': use table, json or folded");
}

void write_report(std::ostream& os, const Snapshot& s, Format f, size_t top) {
  switch (f) {
    case Format::table: return write_table(os, s, top);
    case Format::json: return write_json(os, s, top);
    case Format::folded: return write_folded(os, s, top);
  }
}

}  // namespace slableak
