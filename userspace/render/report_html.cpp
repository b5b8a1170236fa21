#include "report_html.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <sstream>

#include "content_security.h"
#include "flamegraph_svg.h"
#include "markup_escape.h"
#include "report.h"
#include "tracer_counters.h"
#include "units.h"

namespace slableak {
namespace {

const char* kPageStyle = R"CSS(body { font-family: sans-serif; margin: 1em 2em; color: #222; background: #fff; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.5em; border-bottom: 1px solid #ccc; }
p.meta { color: #555; margin-top: 0; }
p.warn { color: #a51d2d; font-weight: bold; }
table { border-collapse: collapse; font-size: 0.95em; }
th, td { padding: 0.2em 0.8em; text-align: right; border-bottom: 1px solid #eee; }
th:first-child, td:first-child { text-align: left; }
td.name { font-family: monospace; }
#flame { overflow-x: auto; }
ol.stacks > li { margin: 0.3em 0; }
ol.stacks summary { cursor: pointer; font-family: monospace; }
ol.stacks summary .bytes { font-weight: bold; }
ol.frames { font-family: monospace; font-size: 0.9em; color: #333; margin: 0.2em 0 0.6em 0; }
)CSS";

std::string utc_time(double unix_time) {
  const auto t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[64];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return b;
}

std::string fixed(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

void write_caches(std::ostream& os, const Snapshot& s) {
  os << "<h2>Caches</h2>\n<table id=\"caches\"><thead><tr><th>cache</th><th>object size</th>"
        "<th>slabinfo delta</th><th>attributed objects</th><th>attributed bytes</th><th>explained</th>"
        "</tr></thead><tbody>\n";
  for (const auto& c : s.caches) {
    const int64_t delta = c.slab_active_now - c.slab_active_start;
    os << "<tr><td class=\"name\">" << markup_escape(c.name) << "</td><td>" << c.object_size << "</td><td>"
       << (c.in_slabinfo ? (delta > 0 ? "+" : "") + std::to_string(delta) : "n/a") << "</td><td>"
       << c.attributed_objects << "</td><td>" << format_bytes(static_cast<double>(c.attributed_bytes))
       << "</td><td>" << (c.in_slabinfo && delta > 0 ? fixed("%.0f%%", 100 * c.explained_ratio()) : "-")
       << "</td></tr>\n";
  }
  os << "</tbody></table>\n";
}

void write_stacks(std::ostream& os, const Snapshot& s, size_t top) {
  os << "<h2>Stacks holding memory</h2>\n<ol class=\"stacks\" id=\"stacks\">\n";
  size_t shown = 0;
  for (const auto& st : s.stacks) {
    if (top && shown >= top) break;
    if (st.objects <= 0) continue;  // as the table: freed-up stacks stay in JSON
    ++shown;
    os << "<li><details" << (shown == 1 ? " open" : "") << " data-stack=\"" << markup_escape(st.stack_id)
       << "\"><summary><span class=\"cache\">" << markup_escape(st.cache) << "</span> &#183; ";
    if (!st.task.empty()) os << "<span class=\"task\">" << markup_escape(s.by + " " + st.task) << "</span> &#183; ";
    os
       << st.objects << " objects &#183; <span class=\"bytes\">" << format_bytes(static_cast<double>(st.bytes))
       << "</span> &#183; oldest " << format_duration(st.oldest_age_s) << " &#183; growth "
       << fixed("%+.1f", st.growth_objects_per_s) << "/s (" << format_bytes(st.growth_bytes_per_s)
       << "/s) &#183; id " << markup_escape(st.stack_id) << "</summary>\n<ol class=\"frames\">";
    for (const auto& f : st.frames) os << "<li>" << markup_escape(f) << "</li>";
    os << "</ol></details></li>\n";
  }
  os << "</ol>\n";
  if (shown == 0) os << "<p id=\"no-stacks\">no outstanding allocations attributed yet</p>\n";
}

// Every tracer counter, from the one descriptor table (tracer_counters.h),
// named as in the JSON and the metrics; drops first stated as a total.
void write_health(std::ostream& os, const TracerHealth& h) {
  os << "<h2>Tracer health</h2>\n";
  uint64_t dropped = 0;
  for (const auto& c : kTracerCounters)
    if (c.group == "drops") dropped += h.counters[c.id];
  if (dropped)
    os << "<p class=\"warn\" id=\"drops\">" << dropped << (dropped == 1 ? " event was" : " events were")
       << " not attributed (see the drop counters below): the numbers above are a lower bound.</p>\n";
  os << "<table id=\"health\"><thead><tr><th>counter</th><th>value</th><th>JSON key</th></tr></thead><tbody>\n";
  for (const auto& c : kTracerCounters)
    os << "<tr title=\"" << markup_escape(c.help) << "\"><td>" << markup_escape(c.group) << ": "
       << markup_escape(c.text) << "</td><td>" << h.counters[c.id] << "</td><td class=\"name\">"
       << markup_escape(c.json) << "</td></tr>\n";
  const auto map = [&](const char* what, uint64_t n, uint64_t cap) {
    os << "<tr><td>maps: " << what << "</td><td>" << n << " / " << cap << "</td><td></td></tr>\n";
  };
  map("live objects", h.live_objects, h.live_capacity);
  map("aggregates", h.agg_entries, h.agg_capacity);
  map("stacks", h.stack_entries, h.stack_capacity);
  os << "<tr><td>maps: kernel memory</td><td>" << format_bytes(static_cast<double>(h.kernel_map_bytes))
     << "</td><td></td></tr>\n</tbody></table>\n";
}

}  // namespace

HtmlPage render_html(const Snapshot& s, size_t top, const HtmlOptions& opt) {
  std::ostringstream json;
  write_json(json, s, top);
  const nlohmann::json j = nlohmann::json::parse(json.str());
  const std::string style = std::string(kPageStyle) + flamegraph_style();
  const std::string& script = flamegraph_script();
  const std::string policy = "default-src 'none'; script-src " + csp_sha256_source(script) + "; style-src " +
                             csp_sha256_source(style) + "; img-src data:; base-uri 'none'; form-action 'none'";
  HtmlPage page;
  page.csp = policy + "; frame-ancestors 'none'";
  std::ostringstream os;
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
     << "<meta http-equiv=\"Content-Security-Policy\" content=\"" << markup_escape(policy) << "\">\n";
  if (opt.refresh_s > 0) os << "<meta http-equiv=\"refresh\" content=\"" << fixed("%.0f", std::max(1.0, opt.refresh_s)) << "\">\n";
  // An empty icon: otherwise the browser asks the server for /favicon.ico.
  os << "<link rel=\"icon\" href=\"data:,\">\n<title>slableak" << (opt.refresh_s > 0 ? " live" : " report")
     << "</title>\n<style>" << style << "</style>\n</head>\n<body>\n";
  os << "<h1>slableak: kernel stacks holding slab memory</h1>\n<p class=\"meta\" id=\"meta\">"
     << (opt.refresh_s > 0 ? "live view, reloads every " + format_duration(opt.refresh_s) + "; " : "")
     << "taken " << utc_time(s.unix_time) << " after " << format_duration(s.elapsed_s) << " traced; cache method: "
     << markup_escape(method_description(s));
  if (s.estimated())
    os << "; sampling 1 in " << s.sample_every << " allocations: counts are estimates (x" << s.sample_every << ")";
  os << "</p>\n";
  write_caches(os, s);
  os << "<h2>Flame graph</h2>\n<div id=\"flame\">\n";
  write_flamegraph_element(os, s, top);
  os << "</div>\n";
  write_stacks(os, s, top);
  write_health(os, s.health);
  os << "<h2>Data</h2>\n<p>The same report as <code>--format json</code> is in this page's "
        "<code>script#slableak-data</code> element.</p>\n"
     << "<script type=\"application/json\" id=\"slableak-data\">" << json_for_script(j.dump()) << "</script>\n"
     << "<script>" << script << "</script>\n</body>\n</html>\n";
  page.body = os.str();
  return page;
}

void write_html(std::ostream& os, const Snapshot& s, size_t top) { os << render_html(s, top).body; }

}  // namespace slableak
