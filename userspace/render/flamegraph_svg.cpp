#include "flamegraph_svg.h"

#include <cstdio>

#include "flame_tree.h"
#include "markup_escape.h"
#include "units.h"

namespace slableak {
namespace {

constexpr double kWidth = 1200;   // px, whole image
constexpr double kPad = 10;       // px, left and right of the graph
constexpr double kRow = 16;       // px per frame
constexpr double kTop = 78;       // px above the first row: title, legend, search
constexpr double kCharPx = 7;     // approximate advance of 12px monospace
constexpr double kMinBoxPx = 0.1; // narrower boxes are not drawn

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

const char* fill_of(GrowthClass c) {
  switch (c) {
    case GrowthClass::shrinking: return "#8fb3de";
    case GrowthClass::steady: return "#e8c872";
    case GrowthClass::growing: return "#f0944d";
    case GrowthClass::fast: return "#dc4b3b";
  }
  return "#cccccc";
}

// The label that fits in @px, as the script computes it after a zoom.
std::string label(const std::string& name, double px) {
  const auto chars = static_cast<long>((px - 6) / kCharPx);
  if (chars < 3) return "";
  if (static_cast<size_t>(chars) >= name.size()) return name;
  return name.substr(0, static_cast<size_t>(chars - 2)) + "..";
}

std::string signed_rate(double bytes_per_s) {
  return (bytes_per_s >= 0 ? "+" : "-") + format_bytes(bytes_per_s >= 0 ? bytes_per_s : -bytes_per_s) + "/s";
}

struct Geometry {
  int64_t total;
  int max_depth;
  double scale() const { return (kWidth - 2 * kPad) / static_cast<double>(total); }
  double y(int depth) const { return kTop + (max_depth - depth) * kRow; }
};

void write_node(std::ostream& os, const FlameNode& n, const Geometry& g) {
  const double w = static_cast<double>(n.bytes) * g.scale();
  if (w < kMinBoxPx) return;
  const double x = kPad + static_cast<double>(n.offset) * g.scale();
  const double share = 100.0 * static_cast<double>(n.bytes) / static_cast<double>(g.total);
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.2f%%", share);
  const std::string name = markup_escape(n.name);
  const std::string tip = n.name + "\n" + format_bytes(static_cast<double>(n.bytes)) + " (" + pct + "), " +
                          std::to_string(n.objects) + " objects, growth " + signed_rate(n.growth_bytes_per_s) +
                          ", oldest " + format_duration(n.oldest_age_s);
  os << "<g class=\"f\" data-n=\"" << name << "\" data-x=\"" << n.offset << "\" data-w=\"" << n.bytes
     << "\" data-d=\"" << n.depth << "\" data-o=\"" << n.objects << "\" data-gr=\"" << num(n.growth_bytes_per_s)
     << "\" data-age=\"" << num(n.oldest_age_s) << "\"><title>" << markup_escape(tip) << "</title><rect x=\""
     << num(x) << "\" y=\"" << num(g.y(n.depth)) << "\" width=\"" << num(w) << "\" height=\"" << num(kRow - 1)
     << "\" fill=\"" << fill_of(growth_class(n)) << "\"/><text x=\"" << num(x + 3) << "\" y=\""
     << num(g.y(n.depth) + kRow - 4) << "\">" << markup_escape(label(n.name, w)) << "</text></g>\n";
  for (const auto& c : n.children) write_node(os, c, g);
}

void write_element(std::ostream& os, const Snapshot& s, size_t top, bool standalone) {
  const FlameTree t = build_flame_tree(s, top);
  const Geometry g{t.root.bytes, t.max_depth};
  const double graph_bottom = g.y(0) + kRow;
  const double height = graph_bottom + 32;
  os << "<svg class=\"flamegraph\" xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << num(kWidth)
     << "\" height=\"" << num(height) << "\" viewBox=\"0 0 " << num(kWidth) << ' ' << num(height)
     << "\" data-total=\"" << t.root.bytes << "\" data-graph-width=\"" << num(kWidth - 2 * kPad)
     << "\" data-pad=\"" << num(kPad) << "\">\n";
  if (standalone) os << "<style><![CDATA[\n" << flamegraph_style() << "]]></style>\n";
  os << "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"" << num(kWidth) << "\" height=\"" << num(height) << "\"/>\n";
  os << "<text class=\"title\" x=\"" << num(kWidth / 2) << "\" y=\"20\">Outstanding slab bytes by kernel stack</text>\n";
  std::string sub = std::string("flame graph: width = outstanding bytes, innermost frame on top, one tower per cache") +
                    (s.by.empty() ? "" : ", then per " + s.by) + "; " +
                    format_duration(s.elapsed_s) + " traced, " + std::to_string(t.stacks_shown) + " stacks";
  if (t.stacks_left_out) sub += " (" + std::to_string(t.stacks_left_out) + " smaller not drawn)";
  if (s.estimated()) sub += "; sampled 1 in " + std::to_string(s.sample_every) + ", counts are estimates";
  os << "<text class=\"sub\" x=\"" << num(kWidth / 2) << "\" y=\"38\">" << markup_escape(sub) << "</text>\n";
  os << "<text class=\"reset hid\" x=\"" << num(kPad) << "\" y=\"20\">Reset zoom</text>\n";
  // Legend: what the colours mean.
  double lx = kPad;
  os << "<g class=\"legend\"><text x=\"" << num(lx) << "\" y=\"62\">colour = growth of held bytes:</text>\n";
  lx += 31 * kCharPx;
  for (auto c : {GrowthClass::shrinking, GrowthClass::steady, GrowthClass::growing, GrowthClass::fast}) {
    const std::string l = growth_class_label(c);
    os << "<rect x=\"" << num(lx) << "\" y=\"52\" width=\"12\" height=\"12\" fill=\"" << fill_of(c)
       << "\"/><text x=\"" << num(lx + 16) << "\" y=\"62\">" << markup_escape(l) << "</text>\n";
    lx += 16 + (static_cast<double>(l.size()) + 2) * kCharPx;
  }
  os << "</g>\n";
  os << "<foreignObject x=\"" << num(kWidth - kPad - 260) << "\" y=\"4\" width=\"260\" height=\"24\">"
     << "<input xmlns=\"http://www.w3.org/1999/xhtml\" class=\"search\" type=\"search\" "
        "placeholder=\"search function\" aria-label=\"search function\"/></foreignObject>\n";
  if (t.root.bytes > 0) {
    write_node(os, t.root, g);
  } else {
    os << "<text x=\"" << num(kPad) << "\" y=\"" << num(g.y(0) + kRow - 4)
       << "\">no outstanding allocations attributed yet</text>\n";
  }
  os << "<text class=\"details\" x=\"" << num(kPad) << "\" y=\"" << num(graph_bottom + 20)
     << "\">hover a box for details; click to zoom</text>\n";
  os << "<text class=\"matched\" x=\"" << num(kWidth - kPad) << "\" y=\"" << num(graph_bottom + 20) << "\"></text>\n";
  if (standalone) os << "<script><![CDATA[\n" << flamegraph_script() << "]]></script>\n";
  os << "</svg>\n";
}

}  // namespace

void write_flamegraph_svg(std::ostream& os, const Snapshot& s, size_t top) {
  os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  write_element(os, s, top, true);
}

void write_flamegraph_element(std::ostream& os, const Snapshot& s, size_t top) { write_element(os, s, top, false); }

const std::string& flamegraph_style() {
  static const std::string css = R"CSS(svg.flamegraph { font-family: monospace; font-size: 12px; }
svg.flamegraph .bg { fill: #f8f8f4; }
svg.flamegraph .title { font-size: 17px; text-anchor: middle; }
svg.flamegraph .sub { fill: #555; text-anchor: middle; }
svg.flamegraph .matched { text-anchor: end; }
svg.flamegraph .reset { cursor: pointer; fill: #1a5fb4; text-decoration: underline; }
svg.flamegraph .f { cursor: pointer; }
svg.flamegraph .f rect { stroke: #f8f8f4; stroke-width: 0.5; }
svg.flamegraph .f:hover rect { stroke: #000; stroke-width: 1; }
svg.flamegraph .f text { pointer-events: none; }
svg.flamegraph .f.hl rect { fill: #c43ad6; }
svg.flamegraph .f.anc { opacity: 0.55; }
svg.flamegraph .hid { display: none; }
svg.flamegraph input.search { box-sizing: border-box; width: 100%; font: 12px monospace; }
)CSS";
  return css;
}

// Reads everything it needs from the data-* attributes the renderer wrote
// and writes text only through textContent.
const std::string& flamegraph_script() {
  static const std::string js = R"JS((function () {
  'use strict';
  var CHAR_PX = 7, ROW_PAD = 3;
  function fmtBytes(b) {
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0, v = Math.abs(b);
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return (b < 0 ? '-' : '') + (i === 0 ? v.toFixed(0) + ' B' : v.toFixed(1) + ' ' + u[i]);
  }
  function fmtAge(s) {
    if (s < 60) return s.toFixed(0) + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm' + ('0' + Math.floor(s % 60)).slice(-2) + 's';
    return Math.floor(s / 3600) + 'h' + ('0' + Math.floor((s % 3600) / 60)).slice(-2) + 'm';
  }
  function label(name, px) {
    var chars = Math.floor((px - 6) / CHAR_PX);
    if (chars < 3) return '';
    return chars >= name.length ? name : name.slice(0, chars - 2) + '..';
  }
  function setup(svg) {
    var total = Number(svg.getAttribute('data-total'));
    var span = Number(svg.getAttribute('data-graph-width'));
    var pad = Number(svg.getAttribute('data-pad'));
    var nodes = Array.prototype.slice.call(svg.querySelectorAll('g.f'));
    var details = svg.querySelector('.details');
    var matched = svg.querySelector('.matched');
    var reset = svg.querySelector('.reset');
    var search = svg.querySelector('input.search');
    var idle = details ? details.textContent : '';
    function num(g, a) { return Number(g.getAttribute(a)); }
    function info(g) {
      var bytes = num(g, 'data-w'), gr = num(g, 'data-gr');
      return g.getAttribute('data-n') + ': ' + fmtBytes(bytes) + ' (' +
        (total > 0 ? (100 * bytes / total).toFixed(2) : '0') + '%), ' + num(g, 'data-o') +
        ' objects, growth ' + (gr >= 0 ? '+' : '') + fmtBytes(gr) + '/s, oldest ' + fmtAge(num(g, 'data-age'));
    }
    function place(g, x, w) {
      var r = g.querySelector('rect'), t = g.querySelector('text');
      r.setAttribute('x', x.toFixed(2));
      r.setAttribute('width', w.toFixed(2));
      t.setAttribute('x', (x + ROW_PAD).toFixed(2));
      t.textContent = label(g.getAttribute('data-n'), w);
    }
    function zoom(z) {
      var zx = num(z, 'data-x'), zw = num(z, 'data-w'), zd = num(z, 'data-d');
      nodes.forEach(function (g) {
        var x = num(g, 'data-x'), w = num(g, 'data-w'), d = num(g, 'data-d');
        g.classList.remove('hid', 'anc');
        if (d >= zd && x >= zx && x + w <= zx + zw) {
          place(g, pad + (x - zx) / zw * span, w / zw * span);
        } else if (d < zd && x <= zx && x + w >= zx + zw) {
          g.classList.add('anc');
          place(g, pad, span);
        } else {
          g.classList.add('hid');
        }
      });
      if (reset) reset.classList.toggle('hid', zd === 0 && zw === total);
    }
    function highlight(term) {
      term = term.toLowerCase();
      var spans = [];
      nodes.forEach(function (g) {
        var hit = term !== '' && g.getAttribute('data-n').toLowerCase().indexOf(term) >= 0;
        g.classList.toggle('hl', hit);
        if (hit) spans.push([num(g, 'data-x'), num(g, 'data-x') + num(g, 'data-w')]);
      });
      // Nested matches cover the same bytes once.
      spans.sort(function (a, b) { return a[0] - b[0]; });
      var covered = 0, end = -1;
      spans.forEach(function (s) {
        if (s[0] >= end) { covered += s[1] - s[0]; end = s[1]; }
        else if (s[1] > end) { covered += s[1] - end; end = s[1]; }
      });
      if (matched) matched.textContent = term === '' ? '' :
        'matched ' + fmtBytes(covered) + ' (' + (total > 0 ? (100 * covered / total).toFixed(2) : '0') + '% of bytes)';
    }
    nodes.forEach(function (g) {
      g.addEventListener('mouseenter', function () { if (details) details.textContent = info(g); });
      g.addEventListener('mouseleave', function () { if (details) details.textContent = idle; });
      g.addEventListener('click', function () { zoom(g); });
    });
    if (reset) reset.addEventListener('click', function () { if (nodes.length) zoom(nodes[0]); });
    if (search) search.addEventListener('input', function () { highlight(search.value); });
  }
  Array.prototype.forEach.call(document.querySelectorAll('svg.flamegraph'), setup);
})();
)JS";
  return js;
}

}  // namespace slableak
