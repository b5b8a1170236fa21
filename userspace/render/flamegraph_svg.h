// The interactive flame graph of outstanding bytes: a self-contained SVG
// (no external script, font or request) that opens from a file.
//
// Layout: a flame graph proper, root ("all") at the bottom and the innermost
// frame on top; one tower per cache above the root. Width is outstanding
// bytes; colour is the growth class (flame_tree.h) with a legend. Hover
// shows frame, objects, bytes, share, growth and oldest age; click zooms
// into a box (click "Reset zoom" or the root to go back); the search box
// highlights every box whose function contains the text and says what share
// of the bytes they cover.
//
// Every name is escaped (markup_escape.h); the script reads names back only
// through getAttribute/textContent, so a name is never parsed as markup.
#pragma once
#include <cstddef>
#include <ostream>
#include <string>

#include "snapshot.h"

namespace slableak {

// A whole SVG document (for --format svg and top's "write SVG" key).
void write_flamegraph_svg(std::ostream& os, const Snapshot& s, size_t top);

// The <svg> element alone, for embedding in an HTML page; that page must
// also carry flamegraph_style() and flamegraph_script() (report_html.cpp).
void write_flamegraph_element(std::ostream& os, const Snapshot& s, size_t top);

// CSS and script shared by both forms. Neither contains "]]>" or "</", so
// they sit unchanged in a CDATA section or an HTML <script>/<style>.
const std::string& flamegraph_style();
const std::string& flamegraph_script();

}  // namespace slableak
