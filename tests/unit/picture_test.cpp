// The pictures: flame tree, SVG flame graph, HTML page, and the escaping
// and CSP hashes they depend on. Pure renderers, asserted on their text.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "content_security.h"
#include "flame_tree.h"
#include "flamegraph_svg.h"
#include "markup_escape.h"
#include "report.h"
#include "report_html.h"
#include "tracer_counters.h"

using namespace slableak;

namespace {

// A module name that tries everything: markup, quotes, CDATA end, a
// newline, a control character and a byte that is not UTF-8.
const std::string kHostile = "evil\"'<script>alert(1)</script>]]><!--\n\x01\xff [<b>m&d</b>]";

StackReport stack(const std::string& cache, std::vector<std::string> functions, int64_t objects, int64_t bytes,
                  double growth_bytes_per_s = 0) {
  StackReport s;
  s.cache = cache;
  s.stack_id = "id" + std::to_string(bytes);
  s.functions = functions;
  for (auto& f : functions) f += "+0x10";
  s.frames = functions;
  s.objects = objects;
  s.bytes = bytes;
  s.oldest_age_s = 30;
  s.growth_bytes_per_s = growth_bytes_per_s;
  return s;
}

// Innermost first, as the snapshot holds frames.
Snapshot two_caches() {
  Snapshot s;
  s.unix_time = 1700000000;
  s.elapsed_s = 30;
  s.method = "kfunc";
  CacheHeader a;
  a.name = "kmalloc-2k";
  a.object_size = 2048;
  a.in_slabinfo = true;
  a.slab_active_start = 100;
  a.slab_active_now = 1100;
  a.attributed_objects = 1000;
  a.attributed_bytes = 2048000;
  s.caches.push_back(a);
  CacheHeader b = a;
  b.name = "kmalloc-cg-2k";
  b.attributed_objects = 250;
  b.attributed_bytes = 512000;
  s.caches.push_back(b);
  s.stacks.push_back(stack("kmalloc-2k", {"__alloc_skb", "netlink_sendmsg", "__sys_sendto", "do_syscall_64"}, 800,
                           1638400, 1638400.0 / 60));  // +100%/min: fast
  s.stacks.push_back(stack("kmalloc-2k", {"load_msg", "do_msgsnd", "do_syscall_64"}, 200, 409600));
  s.stacks.push_back(stack("kmalloc-cg-2k", {"pipe_resize_ring", "do_syscall_64"}, 250, 512000, -1000));
  s.stacks.push_back(stack("kmalloc-2k", {"freed"}, 0, 0));
  return s;
}

std::string svg_of(const Snapshot& s, size_t top = 0) {
  std::ostringstream os;
  write_flamegraph_svg(os, s, top);
  return os.str();
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

struct Box {
  std::string name;
  int64_t x = 0, w = 0;
  int depth = 0;
  double px_x = 0, px_w = 0, px_y = 0;
  std::string fill;
};

std::vector<Box> boxes(const std::string& svg) {
  static const std::regex re(
      "<g class=\"f\" data-n=\"([^\"]*)\" data-x=\"(\\d+)\" data-w=\"(\\d+)\" data-d=\"(\\d+)\"[^>]*><title>[^<]*"
      "</title><rect x=\"([0-9.]+)\" y=\"([0-9.]+)\" width=\"([0-9.]+)\" height=\"[0-9.]+\" fill=\"([^\"]+)\"/>");
  std::vector<Box> out;
  for (std::sregex_iterator it(svg.begin(), svg.end(), re), end; it != end; ++it) {
    const auto& m = *it;
    out.push_back({m[1], std::stoll(m[2]), std::stoll(m[3]), std::stoi(m[4]), std::stod(m[5]), std::stod(m[7]),
                   std::stod(m[6]), m[8]});
  }
  return out;
}

const Box* find_box(const std::vector<Box>& bs, const std::string& name) {
  for (const auto& b : bs)
    if (b.name == name) return &b;
  return nullptr;
}

}  // namespace

TEST(MarkupEscape, NamesAreTextNeverMarkup) {
  EXPECT_EQ(markup_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(markup_escape("]]>"), "]]&gt;");
  EXPECT_EQ(markup_escape("x\ny\tz"), "x&#10;y&#9;z");
  // Characters XML 1.0 cannot carry become U+FFFD instead of breaking the parse.
  EXPECT_EQ(markup_escape(std::string("a\x01" "b\xff" "c", 5)), "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c");
  EXPECT_EQ(markup_escape(std::string("\0", 1)), "\xef\xbf\xbd");
  EXPECT_EQ(markup_escape("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
  EXPECT_EQ(markup_escape("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");                  // overlong '/'
  EXPECT_EQ(markup_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5");
  EXPECT_EQ(json_for_script(R"({"a":"</script><!--&"})"), R"({"a":"\u003c/script\u003e\u003c!--\u0026"})");
}

TEST(ContentSecurity, Sha256SourceMatchesKnownDigests) {
  EXPECT_EQ(csp_sha256_source(""), "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
  EXPECT_EQ(csp_sha256_source("abc"), "'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='");
}

TEST(FlameTree, MergesSharedFramesOneTowerPerCache) {
  const FlameTree t = build_flame_tree(two_caches(), 0);
  EXPECT_EQ(t.stacks_shown, 3u);  // the freed stack has no width
  EXPECT_EQ(t.root.bytes, 1638400 + 409600 + 512000);
  ASSERT_EQ(t.root.children.size(), 2u);
  const FlameNode& k = t.root.children[0];
  EXPECT_EQ(k.name, "kmalloc-2k");  // widest first
  EXPECT_EQ(k.depth, 1);
  EXPECT_EQ(k.bytes, 1638400 + 409600);
  // Both kmalloc-2k stacks enter through do_syscall_64: one box.
  ASSERT_EQ(k.children.size(), 1u);
  EXPECT_EQ(k.children[0].name, "do_syscall_64");
  EXPECT_EQ(k.children[0].objects, 1000);
  ASSERT_EQ(k.children[0].children.size(), 2u);
  EXPECT_EQ(k.children[0].children[0].name, "__sys_sendto");
  EXPECT_EQ(k.children[0].children[1].name, "do_msgsnd");
  EXPECT_EQ(k.children[0].children[1].offset, 1638400);
  const FlameNode& cg = t.root.children[1];
  EXPECT_EQ(cg.offset, k.bytes);
  EXPECT_EQ(t.max_depth, 5);  // all, cache, 4 frames of the netlink stack -> 0..5
  EXPECT_EQ(growth_class(k.children[0].children[0]), GrowthClass::fast);
  EXPECT_EQ(growth_class(k.children[0].children[1]), GrowthClass::steady);
  EXPECT_EQ(growth_class(cg), GrowthClass::shrinking);
}

TEST(FlameTree, TopLimitsStacksAndCountsTheRest) {
  const FlameTree t = build_flame_tree(two_caches(), 2);
  EXPECT_EQ(t.stacks_shown, 2u);
  EXPECT_EQ(t.stacks_left_out, 1u);
  EXPECT_EQ(t.root.bytes, 1638400 + 409600);
}

TEST(FlamegraphSvg, WidthsAreProportionalToBytes) {
  const std::string svg = svg_of(two_caches());
  const auto bs = boxes(svg);
  // all, 2 caches, 6 frames of kmalloc-2k (do_syscall_64 shared), 2 of kmalloc-cg-2k
  ASSERT_EQ(bs.size(), 1u + 2 + 6 + 2);
  const Box* all = find_box(bs, "all");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->w, 1638400 + 409600 + 512000);
  for (const auto& b : bs) {
    SCOPED_TRACE(b.name);
    // Width and position in pixels follow bytes (printed to 0.01 px).
    EXPECT_NEAR(b.px_w, all->px_w * static_cast<double>(b.w) / static_cast<double>(all->w), 0.011);
    EXPECT_NEAR(b.px_x, all->px_x + all->px_w * static_cast<double>(b.x) / static_cast<double>(all->w), 0.011);
  }
  // Innermost frame on top: deeper boxes are higher up (smaller y).
  EXPECT_LT(find_box(bs, "__alloc_skb")->px_y, find_box(bs, "do_syscall_64")->px_y);
  EXPECT_LT(find_box(bs, "do_syscall_64")->px_y, find_box(bs, "kmalloc-2k")->px_y);
  // Colour is the growth class, and the legend names every class.
  EXPECT_EQ(find_box(bs, "__alloc_skb")->fill, "#dc4b3b");
  EXPECT_EQ(find_box(bs, "load_msg")->fill, "#e8c872");
  EXPECT_EQ(find_box(bs, "pipe_resize_ring")->fill, "#8fb3de");
  for (auto c : {GrowthClass::shrinking, GrowthClass::steady, GrowthClass::growing, GrowthClass::fast})
    EXPECT_NE(svg.find(markup_escape(growth_class_label(c))), std::string::npos);
}

TEST(FlamegraphSvg, SelfContained) {
  const std::string svg = svg_of(two_caches());
  EXPECT_EQ(svg.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 0), 0u);
  // Nothing fetched: no href, no url(), no @import, no http(s) except the
  // two namespace names the SVG and its search box need.
  for (const char* bad : {"href", "url(", "@import", "src=", "fetch(", "XMLHttpRequest"})
    EXPECT_EQ(svg.find(bad), std::string::npos) << bad;
  EXPECT_EQ(count(svg, "http"), 2u);
  EXPECT_EQ(count(svg, "<script>"), 1u);
  EXPECT_EQ(count(svg, "<input "), 1u);
  // The shared script and style fit both a CDATA section and an HTML block.
  for (const std::string* block : {&flamegraph_script(), &flamegraph_style()}) {
    EXPECT_EQ(block->find("]]>"), std::string::npos);
    EXPECT_EQ(block->find("</"), std::string::npos);
    EXPECT_EQ(block->find("innerHTML"), std::string::npos);
  }
}

TEST(FlamegraphSvg, EmptySnapshotSaysSo) {
  Snapshot s;
  const std::string svg = svg_of(s);
  EXPECT_NE(svg.find("no outstanding allocations attributed yet"), std::string::npos);
  EXPECT_TRUE(boxes(svg).empty());
}

TEST(FlamegraphSvg, HostileNamesAreText) {
  Snapshot s = two_caches();
  s.caches[0].name = kHostile;
  for (auto& st : s.stacks)
    if (st.cache == "kmalloc-2k") st.cache = kHostile;
  s.stacks.push_back(stack("kmalloc-cg-2k", {"probe [" + kHostile + "]", "do_syscall_64"}, 1, 2048));
  const std::string svg = svg_of(s);
  EXPECT_EQ(svg.find("<script>alert"), std::string::npos);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  EXPECT_EQ(svg.find("<!--"), std::string::npos);
  EXPECT_EQ(svg.find('\x01'), std::string::npos);
  EXPECT_EQ(svg.find('\xff'), std::string::npos);
  EXPECT_EQ(count(svg, "<script>"), 1u);
  EXPECT_EQ(count(svg, "]]>"), 2u);  // the ends of our own style and script CDATA
  const std::string escaped = markup_escape(kHostile);
  EXPECT_NE(svg.find("data-n=\"" + escaped + "\""), std::string::npos);
  EXPECT_NE(svg.find("data-n=\"probe [" + escaped + "]\""), std::string::npos);
  EXPECT_NE(escaped.find("&lt;script&gt;alert(1)&lt;/script&gt;]]&gt;&lt;!--&#10;"), std::string::npos) << escaped;
}

TEST(FlamegraphSvg, Golden) {
  // tests/data/flamegraph.svg; regenerate with SLABLEAK_WRITE_GOLDEN=1 and
  // review the difference before committing it.
  const std::string svg = svg_of(two_caches());
  const std::string path = std::string(TESTDATA_DIR) + "/flamegraph.svg";
  if (std::getenv("SLABLEAK_WRITE_GOLDEN")) std::ofstream(path) << svg;
  std::ifstream in(path);
  std::stringstream golden;
  golden << in.rdbuf();
  EXPECT_EQ(svg, golden.str());
}

namespace {

std::string between(const std::string& s, const std::string& open, const std::string& close, size_t from = 0) {
  const size_t a = s.find(open, from);
  if (a == std::string::npos) return {};
  const size_t b = s.find(close, a + open.size());
  return b == std::string::npos ? std::string() : s.substr(a + open.size(), b - a - open.size());
}

}  // namespace

TEST(ReportHtml, SectionsAndTheSameDataAsJson) {
  const Snapshot s = two_caches();
  const HtmlPage page = render_html(s, 0);
  const std::string& h = page.body;
  EXPECT_EQ(h.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u);
  for (const char* id : {"id=\"caches\"", "class=\"flamegraph\"", "id=\"stacks\"", "id=\"health\"", "id=\"slableak-data\""})
    EXPECT_NE(h.find(id), std::string::npos) << id;
  EXPECT_NE(h.find("<td>+1000</td>"), std::string::npos);  // slabinfo delta
  EXPECT_NE(h.find("<td>100%</td>"), std::string::npos);   // explained
  // Ranked stacks, held ones only, frames collapsible, the first open.
  EXPECT_EQ(count(h, "<details"), 3u);
  EXPECT_EQ(count(h, "<details open"), 1u);
  EXPECT_NE(h.find("<li>netlink_sendmsg+0x10</li>"), std::string::npos);
  EXPECT_EQ(h.find("<li>freed+0x10</li>"), std::string::npos);
  EXPECT_NE(h.find("<td class=\"name\">recursion_misses</td>"), std::string::npos);
  EXPECT_EQ(h.find("id=\"drops\""), std::string::npos);  // nothing dropped
  Snapshot dropped = s;
  dropped.health.counters[TracerCounter::recursion_misses] = 3;
  dropped.health.counters[TracerCounter::drop_live_full] = 4;
  EXPECT_NE(render_html(dropped, 0).body.find("<p class=\"warn\" id=\"drops\">7 events were not attributed"),
            std::string::npos);
  // The embedded data is the JSON report itself.
  std::ostringstream json;
  write_json(json, s, 0);
  const std::string data = between(h, "<script type=\"application/json\" id=\"slableak-data\">", "</script>");
  EXPECT_EQ(nlohmann::json::parse(data), nlohmann::json::parse(json.str()));
  EXPECT_EQ(h.find("http-equiv=\"refresh\""), std::string::npos);
  const HtmlPage live = render_html(s, 0, HtmlOptions{15});
  EXPECT_NE(live.body.find("<meta http-equiv=\"refresh\" content=\"15\">"), std::string::npos);
}

TEST(ReportHtml, PolicyAllowsExactlyItsOwnInlineBlocks) {
  const HtmlPage page = render_html(two_caches(), 0);
  const std::string& h = page.body;
  const std::string style = between(h, "<style>", "</style>");
  // The executable script is the last <script> (the first is the data block).
  const size_t last = h.rfind("<script>");
  ASSERT_NE(last, std::string::npos);
  const std::string script = between(h, "<script>", "</script>", last);
  ASSERT_FALSE(style.empty());
  ASSERT_FALSE(script.empty());
  EXPECT_EQ(page.csp, "default-src 'none'; script-src " + csp_sha256_source(script) + "; style-src " +
                          csp_sha256_source(style) +
                          "; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  // The document carries the policy too (minus frame-ancestors, header-only).
  const std::string meta = between(h, "<meta http-equiv=\"Content-Security-Policy\" content=\"", "\">");
  EXPECT_EQ(meta, markup_escape(page.csp.substr(0, page.csp.find("; frame-ancestors"))));
  EXPECT_EQ(count(h, "<style>"), 1u);
  EXPECT_EQ(count(h, "<script"), 2u);
  EXPECT_EQ(h.find(" style="), std::string::npos);  // inline style attributes would need 'unsafe-inline'
  EXPECT_FALSE(std::regex_search(h, std::regex(" on[a-z]+=")));  // nor event handler attributes
}

TEST(ReportHtml, HostileNamesAreText) {
  Snapshot s = two_caches();
  s.caches[1].name = kHostile;
  s.stacks[2].cache = kHostile;
  s.stacks[0].frames = {"__alloc_skb+0x1", "probe+0x2 [" + kHostile + "]"};
  s.stacks[0].functions = {"__alloc_skb", "probe [" + kHostile + "]"};
  s.stacks[0].stack_id = kHostile;
  const std::string h = render_html(s, 0).body;
  EXPECT_EQ(h.find("<script>alert"), std::string::npos);
  EXPECT_EQ(h.find("<b>"), std::string::npos);
  EXPECT_EQ(h.find("<!--"), std::string::npos);
  EXPECT_EQ(count(h, "<script"), 2u);
  EXPECT_EQ(count(h, "</script"), 2u);
  const std::string escaped = markup_escape(kHostile);
  EXPECT_NE(h.find("<td class=\"name\">" + escaped + "</td>"), std::string::npos);
  EXPECT_NE(h.find("<li>probe+0x2 [" + escaped + "]</li>"), std::string::npos);
  // The data block still parses and carries the name unchanged... except
  // for the bytes JSON cannot carry, which nlohmann replaces.
  const std::string data = between(h, "<script type=\"application/json\" id=\"slableak-data\">", "</script>");
  const auto j = nlohmann::json::parse(data);
  EXPECT_NE(j.at("caches")[1].at("name").get<std::string>().find("<script>alert(1)</script>]]>"), std::string::npos);
}

// --by: one stack, two tasks. Every picture tells the rows apart by the task,
// as the table and the folded output do: a box per task above the cache in
// the flame graph (the SVG, the HTML page and the live page), and the task
// in the HTML list of stacks.
TEST(Pictures, ByTaskShowsTheTaskInEveryPicture) {
  Snapshot s = two_caches();
  s.by = "comm";
  s.stacks.resize(1);
  s.stacks[0].task = "alpha";
  s.stacks.push_back(s.stacks[0]);
  s.stacks[1].task = "beta";
  s.stacks[1].bytes = 2048;
  s.stacks[1].objects = 1;
  const FlameTree t = build_flame_tree(s, 0);
  ASSERT_EQ(t.root.children.size(), 1u);
  const FlameNode& cache = t.root.children[0];
  ASSERT_EQ(cache.children.size(), 2u);
  EXPECT_EQ(cache.children[0].name, "[comm=alpha]");
  EXPECT_EQ(cache.children[0].depth, 2);
  EXPECT_EQ(cache.children[1].name, "[comm=beta]");
  EXPECT_EQ(cache.children[1].bytes, 2048);
  const auto bs = boxes(svg_of(s));
  ASSERT_NE(find_box(bs, "[comm=alpha]"), nullptr);
  ASSERT_NE(find_box(bs, "[comm=beta]"), nullptr);
  for (const HtmlOptions& opt : {HtmlOptions{}, HtmlOptions{15}}) {
    const std::string h = render_html(s, 0, opt).body;
    EXPECT_NE(h.find("data-n=\"[comm=alpha]\""), std::string::npos);
    EXPECT_NE(h.find("<span class=\"task\">comm alpha</span>"), std::string::npos) << h;
    EXPECT_NE(h.find("<span class=\"task\">comm beta</span>"), std::string::npos);
  }
  // A hostile task name is text in the list.
  s.stacks[1].task = kHostile;
  EXPECT_EQ(render_html(s, 0).body.find("<script>alert"), std::string::npos);
}
