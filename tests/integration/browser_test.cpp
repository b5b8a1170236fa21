// The pictures in a real browser: Debian's headless Chromium (driven by
// tests/browser/check_page.mjs through playwright-core) loads the SVG and
// the HTML report of a run with held leaks, and the live page of an
// exporter, and the assertions here are on what the DOM showed. Screenshots
// are kept in build/test-artifacts/browser/.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "report_html.h"
#include "flamegraph_svg.h"
#include "support.h"

namespace slableak::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// Empty if this host can run the browser tests, else why not.
std::string browser_unavailable_reason() {
  if (access(NODE_BIN, X_OK) != 0) return std::string(NODE_BIN) + " missing (scripts/setup.sh installs nodejs)";
  if (access(CHROMIUM_BIN, X_OK) != 0) return std::string(CHROMIUM_BIN) + " missing (scripts/setup.sh installs chromium)";
  if (access(BROWSER_DIR "/node_modules/playwright-core/package.json", R_OK) != 0)
    return "tests/browser/node_modules missing (scripts/setup.sh runs npm ci there)";
  return {};
}

#define REQUIRE_BROWSER()                                                       \
  do {                                                                          \
    const std::string why_ = browser_unavailable_reason();                      \
    if (!why_.empty()) {                                                        \
      if (running_in_ci()) FAIL() << "CI=true but " << why_;                    \
      GTEST_SKIP() << why_;                                                     \
    }                                                                           \
  } while (0)

std::string artifact(const std::string& name) {
  mkdir(ARTIFACT_DIR, 0755);
  return std::string(ARTIFACT_DIR) + "/" + name;
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// Runs the page check and returns what it saw; fails the test if the
// browser could not be driven at all.
json check_page(const std::string& url, const std::string& frame, const std::string& screenshot,
                int wait_seconds = 0, const std::string& hostile = "") {
  std::vector<std::string> argv = {NODE_BIN,     BROWSER_DIR "/check_page.mjs", "--url", url, "--frame", frame,
                                   "--screenshot", screenshot, "--wait-seconds", std::to_string(wait_seconds)};
  if (!hostile.empty()) argv.insert(argv.end(), {"--hostile", hostile});
  const RunResult r = run_command(argv, seconds(90 + wait_seconds));
  EXPECT_EQ(r.status, 0) << r.err;
  json j;
  try {
    j = json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "check_page printed no JSON: " << r.out << r.err;
    return json::object();
  }
  EXPECT_FALSE(j.contains("error")) << j.value("error", "");
  EXPECT_EQ(j.at("consoleErrors"), json::array()) << j.at("consoleErrors").dump();
  EXPECT_EQ(j.at("pageErrors"), json::array()) << j.at("pageErrors").dump();
  EXPECT_EQ(j.at("dialogs"), json::array()) << j.at("dialogs").dump();
  // Nothing but the page itself (a live page reloads the same URL).
  for (const auto& req : j.at("requests")) EXPECT_EQ(req.get<std::string>(), url);
  struct stat st{};
  EXPECT_EQ(stat(screenshot.c_str(), &st), 0) << "no screenshot at " << screenshot;
  EXPECT_GT(st.st_size, 1000);
  return j;
}

// The flame graph of a run where the holder keeps @objects netlink messages
// (kmalloc-2k): the held frame is there, its tower is the widest of its
// cache, widths follow bytes, search and zoom work.
void expect_held_flamegraph(const json& j, int64_t objects) {
  ASSERT_TRUE(j.value("flamegraph", false)) << j.dump();
  ASSERT_GT(j.value("frameBoxes", 0), 0) << "netlink_sendmsg not in the flame graph: " << j.dump();
  EXPECT_EQ(j.at("frameCache"), "kmalloc-2k");
  EXPECT_NEAR(j.at("frameObjects").get<double>(), objects, objects / 50.0);
  EXPECT_TRUE(j.at("frameTowerIsWidest")) << "tower " << j.at("towerBytes") << " widest " << j.at("widestTowerBytes");
  EXPECT_GE(j.at("widthsChecked").get<int>(), 3);
  EXPECT_LT(j.at("worstWidthError").get<double>(), 0.01);
  EXPECT_NE(j.at("hoverDetails").get<std::string>().find("netlink_sendmsg"), std::string::npos) << j.at("hoverDetails");
  EXPECT_TRUE(j.at("highlightExact")) << j.at("highlighted").dump();
  ASSERT_FALSE(j.at("highlighted").empty());
  for (const auto& n : j.at("highlighted"))
    EXPECT_NE(n.get<std::string>().find("netlink_sendmsg"), std::string::npos) << n;
  EXPECT_EQ(j.at("highlightFill"), "rgb(196, 58, 214)");  // the highlight colour, not the growth colour
  EXPECT_NE(j.at("matchedText").get<std::string>().find("matched"), std::string::npos);
  EXPECT_NEAR(j.at("zoomedPx").get<double>(), j.at("zoomedAllPx").get<double>(), 0.5);
  EXPECT_TRUE(j.at("zoomedRootIsAncestor"));
  EXPECT_GT(j.at("hiddenAfterZoom").get<int>(), 0);
  EXPECT_EQ(j.at("hiddenAfterReset").get<int>(), 0);
}

std::string capture(const std::vector<std::string>& args, int64_t netlink, int64_t pipes) {
  std::vector<std::string> argv = {slableak_bin(), "snapshot", "--ready-fd", "3", "--duration", "8s", "--cache", "kmalloc-2k",
                                   "--cache", "kmalloc-cg-2k", "--top", "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  Child snap(argv);
  EXPECT_FALSE(snap.wait_ready(seconds(20)).empty()) << snap.err();
  Holder held("kmalloc", static_cast<unsigned>(netlink));
  Holder cg("cg", static_cast<unsigned>(pipes));
  EXPECT_EQ(snap.wait_exit(seconds(40)), 0) << snap.err();
  return snap.out();
}

TEST(Browser, SvgOfHeldLeaks) {
  REQUIRE_BPF();
  REQUIRE_BROWSER();
  const std::string svg = capture({"--format", "svg"}, 2000, 500);
  ASSERT_EQ(svg.rfind("<?xml", 0), 0u) << svg.substr(0, 200);
  const std::string path = artifact("held.svg");
  write_text(path, svg);
  const json j = check_page("file://" + path, "netlink_sendmsg", artifact("held-svg.png"));
  EXPECT_TRUE(j.value("isSvgDocument", false));
  expect_held_flamegraph(j, 2000);
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

TEST(Browser, HtmlReportOfHeldLeaks) {
  REQUIRE_BPF();
  REQUIRE_BROWSER();
  const std::string html = capture({"--format", "html"}, 2000, 500);
  const std::string path = artifact("held.html");
  write_text(path, html);
  const json j = check_page("file://" + path, "netlink_sendmsg", artifact("held-html.png"));
  expect_held_flamegraph(j, 2000);
  EXPECT_TRUE(j.value("rankedFrameListed", false)) << "no netlink_sendmsg frame in the ranked stacks";
  ASSERT_GE(j.value("rankedStacks", 0), 2);  // the netlink and the pipe stacks at least
  EXPECT_TRUE(j.value("collapsibleFrames", false));
  EXPECT_NEAR(j.at("jsonFrameObjects").get<double>(), 2000, 40);
  bool kmalloc = false, cg = false;
  for (const auto& row : j.at("cacheRows")) {
    kmalloc |= row[0] == "kmalloc-2k";
    cg |= row[0] == "kmalloc-cg-2k";
  }
  EXPECT_TRUE(kmalloc && cg) << j.at("cacheRows").dump();
  EXPECT_GT(j.value("healthRows", 0), 5);
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}


TEST(Browser, LivePageShowsAHeldLeak) {
  REQUIRE_BPF();
  REQUIRE_BROWSER();
  const int port = free_port();
  Child exp({slableak_bin(), "export", "--interval", "2s", "--no-textfile", "--sample-every", "1", "--listen",
             "127.0.0.1:" + std::to_string(port)});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  Holder held("kmalloc", 2000);
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  // The page reloads itself at the interval; the check follows the reloads
  // until the held frame shows (the wait bounds a failure, it is not a target).
  const json j = check_page(url, "netlink_sendmsg", artifact("live.png"), 30);
  EXPECT_EQ(j.value("status", 0), 200);
  const auto& h = j.at("headers");
  const std::string csp = h.value("content-security-policy", "");
  EXPECT_EQ(csp.rfind("default-src 'none'; script-src 'sha256-", 0), 0u) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(h.value("x-content-type-options", ""), "nosniff");
  EXPECT_EQ(h.value("content-type", ""), "text/html; charset=utf-8");
  expect_held_flamegraph(j, 2000);
  EXPECT_TRUE(j.value("rankedFrameListed", false));
  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(20)), 0) << exp.err();
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// A module named to break out of the markup, through the real renderers,
// in the real browser: it shows as text, and no script of its runs.
TEST(Browser, HostileNamesStayText) {
  REQUIRE_BROWSER();
  const std::string evil = "evil\"'<script>alert(1)</script>]]><!--\n<b>x</b>";
  Snapshot s;
  s.unix_time = 1700000000;
  s.elapsed_s = 30;
  s.method = "kfunc";
  CacheHeader c;
  c.name = "kmalloc-2k";
  c.object_size = 2048;
  s.caches.push_back(c);
  for (int i = 0; i < 2; ++i) {
    StackReport st;
    st.cache = "kmalloc-2k";
    st.stack_id = "00000000000000" + std::to_string(i) + "0";
    st.functions = {"probe [" + evil + "]", "do_syscall_64"};
    st.frames = {"probe+0x1 [" + evil + "]", "do_syscall_64+0x2"};
    if (i) st.functions = st.frames = {"other", "do_syscall_64"};
    st.objects = 10 - 5 * i;
    st.bytes = st.objects * 2048;
    s.stacks.push_back(st);
  }
  const std::string visible = "probe [evil\"'<script>alert(1)</script>]]><!--";
  std::ostringstream svg;
  write_flamegraph_svg(svg, s, 0);
  write_text(artifact("hostile.svg"), svg.str());
  const json a = check_page("file://" + artifact("hostile.svg"), "probe", artifact("hostile-svg.png"), 0, visible);
  EXPECT_TRUE(a.value("hostileShownAsText", false));
  EXPECT_EQ(a.value("scriptElements", -1), 1);
  EXPECT_EQ(a.value("boldElements", -1), 0);
  EXPECT_GT(a.value("frameBoxes", 0), 0);
  write_text(artifact("hostile.html"), render_html(s, 0).body);
  const json b = check_page("file://" + artifact("hostile.html"), "probe", artifact("hostile-html.png"), 0, visible);
  EXPECT_TRUE(b.value("hostileShownAsText", false));
  EXPECT_EQ(b.value("scriptElements", -1), 2);  // the data block and ours
  EXPECT_EQ(b.value("boldElements", -1), 0);
  EXPECT_TRUE(b.value("rankedFrameListed", false));
}

}  // namespace
}  // namespace slableak::test
