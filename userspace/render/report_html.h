// One self-contained HTML page per report: the per-cache header (slabinfo
// delta against what slableak attributes), the flame graph, the ranked
// stacks with collapsible frames, tracer health, and the JSON report itself
// in a data block. No external script, style, font or image; inline blocks
// are allowed by their hashes in the page's own Content-Security-Policy.
#pragma once
#include <cstddef>
#include <ostream>
#include <string>

#include "snapshot.h"

namespace slableak {

struct HtmlOptions {
  // > 0: a live page that reloads itself this often (export --listen's "/").
  double refresh_s = 0;
};

struct HtmlPage {
  std::string body;  // the whole document
  // The policy for a Content-Security-Policy header. The document carries
  // the same policy in a <meta> element, minus frame-ancestors (which only
  // a header can set), so a saved page keeps it when opened from a file.
  std::string csp;
};

HtmlPage render_html(const Snapshot& s, size_t top, const HtmlOptions& opt = {});
void write_html(std::ostream& os, const Snapshot& s, size_t top);

}  // namespace slableak
