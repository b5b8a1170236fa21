#include "report.h"

#include "error.h"
#include "flamegraph_svg.h"

namespace slableak {

Format parse_format(const std::string& s) {
  if (s == "table") return Format::table;
  if (s == "json") return Format::json;
  if (s == "folded") return Format::folded;
  if (s == "svg") return Format::svg;
  if (s == "html") return Format::html;
  if (s == "pprof") return Format::pprof;
  throw usage_error("bad --format '" + s + "': use table, json, folded, svg, html or pprof");
}

void write_svg(std::ostream& os, const Snapshot& s, size_t top) { write_flamegraph_svg(os, s, top); }

void write_report(std::ostream& os, const Snapshot& s, Format f, size_t top) {
  switch (f) {
    case Format::table: return write_table(os, s, top);
    case Format::json: return write_json(os, s, top);
    case Format::folded: return write_folded(os, s, top);
    case Format::svg: return write_svg(os, s, top);
    case Format::html: return write_html(os, s, top);
    case Format::pprof: return write_pprof(os, s, top);
  }
}

}  // namespace slableak
