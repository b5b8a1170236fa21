
// The tables the docs hold cannot drift from what slableak really has.
//
// ops.cli_reference checks options, defaults, limits and exit codes against
// the parser. This checks the other tables an on-call reads, against their
// one source each:
//   - tracer counters (event kinds, drop reasons, JSON keys):
//     kTracerCounters, i.e. SLK_TRACER_COUNTERS in bpf/slableak.h;
//   - metric families and their labels (build_info's included):
//     render_prometheus() on a synthetic Snapshot;
//   - the JSON report's tracer object: write_json() on the same Snapshot;
//   - alert names: deploy/prometheus/slableak-rules.yml (and its tests);
//   - dashboard panel titles: deploy/grafana/slableak.json.
// Each failure names the document, the table and the missing or unknown
// entry.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "prometheus_text.h"
#include "report.h"
#include "snapshot.h"
#include "tracer_counters.h"
#include "../support/sample_snapshot.h"

namespace {

using json = nlohmann::json;
using Names = std::set<std::string>;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string doc(const char* name) {
  const std::string path = std::string(DOCS_DIR) + "/" + name;
  const std::string t = slurp(path);
  EXPECT_FALSE(t.empty()) << path << " is missing or empty";
  return t;
}

std::string join(const Names& n) {
  std::string s;
  for (const auto& x : n) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "(none)" : s;
}

// Both directions at once, with the names in the message.
void expect_same(const Names& documented, const Names& real, const std::string& where) {
  Names missing, unknown;
  for (const auto& r : real)
    if (!documented.count(r)) missing.insert(r);
  for (const auto& d : documented)
    if (!real.count(d)) unknown.insert(d);
  EXPECT_TRUE(missing.empty()) << where << ": not documented: " << join(missing);
  EXPECT_TRUE(unknown.empty()) << where << ": documented but not real: " << join(unknown);
}

// `identifier` tokens (lower case, digits, '_') of a piece of markdown.
Names code_identifiers(const std::string& text) {
  Names out;
  static const std::regex re("`([a-z][a-z0-9_]*)`");
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) out.insert((*it)[1]);
  return out;
}

// The cells of a markdown table row.
std::vector<std::string> cells(const std::string& row) {
  std::vector<std::string> out;
  std::string cur;
  bool code = false;
  for (size_t i = 1; i < row.size(); ++i) {
    const char c = row[i];
    if (c == '`') code = !code;
    if (c == '|' && !code && row[i - 1] != '\\') {
      const auto b = cur.find_first_not_of(' '), e = cur.find_last_not_of(' ');
      out.push_back(b == std::string::npos ? "" : cur.substr(b, e - b + 1));
      cur.clear();
      continue;
    }
    cur += c;
  }
  return out;
}

// Rows of the first table after a line starting with `marker` (header and
// separator skipped).
std::vector<std::vector<std::string>> table_after(const std::string& text, const std::string& marker,
                                                  const std::string& where) {
  std::vector<std::vector<std::string>> rows;
  const auto at = text.find(marker);
  EXPECT_NE(at, std::string::npos) << where << ": no '" << marker << "'";
  if (at == std::string::npos) return rows;
  std::istringstream in(text.substr(at));
  std::string line;
  int seen = 0;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("|", 0) != 0) {
      if (in_table) break;
      continue;
    }
    in_table = true;
    if (seen++ < 2) continue;  // header, |---|
    rows.push_back(cells(line));
  }
  EXPECT_FALSE(rows.empty()) << where << ": the table after '" << marker << "' is empty";
  return rows;
}

// ------------------------------------------------------------------ truth

slableak::Snapshot synthetic_snapshot() {
  using namespace slableak;
  Snapshot s = sample_snapshot("kfunc", 600);
  s.stack_fingerprints = "on";
  CacheHeader& c = s.caches.back();
  c.in_slabinfo = true;
  c.slab_active_start = 1000;
  c.slab_active_now = 2000;
  c.attributed_objects = 900;
  c.attributed_bytes = 900 * 2048;
  StackReport st;
  st.cache = "kmalloc-2k";
  st.stack_id = "5335cb855cb93659";
  st.frames = {"__alloc_skb+0x86", "netlink_sendmsg+0x152"};
  st.functions = {"__alloc_skb", "netlink_sendmsg"};
  st.objects = 900;
  st.bytes = 900 * 2048;
  st.allocs = 1000;
  st.frees = 100;
  st.oldest_age_s = 300;
  st.verdict = Verdict::leaking;
  st.verdict_evidence = "synthetic";
  s.stacks.push_back(st);
  // The kernel's figures per program: a series of their own.
  s.health.programs = {{"kfree_kfunc", true, 2}, {"kmalloc_kfunc", true, 0}};
  return s;
}

// Family -> label names, from the exposition of the synthetic snapshot.
std::map<std::string, Names> families() {
  slableak::ExpositionInfo info;
  info.version = "0.0.0-test";
  info.kernel = "6.18.0-test";
  info.last_update_unix = 1.7e9;
  info.captures = true;  // export --capture-dir: the flight recorder's families too
  info.push = true;  // export --push-pprof: its two counters are documented too
  const std::string text = slableak::render_prometheus(synthetic_snapshot(), info);
  std::map<std::string, Names> out;
  std::istringstream in(text);
  std::string line;
  static const std::regex type_re(R"(^# TYPE ([a-z_:][a-z0-9_:]*) )");
  static const std::regex label_re(R"re(([a-z_][a-z0-9_]*)="(?:[^"\\]|\\.)*")re");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, type_re)) {
      out[m[1]];
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const auto brace = line.find('{');
    const std::string name = line.substr(0, std::min(brace, line.find(' ')));
    if (brace == std::string::npos) continue;
    const std::string inner = line.substr(brace + 1, line.rfind('}') - brace - 1);
    for (std::sregex_iterator it(inner.begin(), inner.end(), label_re), end; it != end; ++it)
      out[name].insert((*it)[1]);
  }
  return out;
}

// Label values of a counter family told apart by a label (event, reason).
Names counter_label_values(const std::string& metric) {
  Names out;
  for (const auto& c : slableak::kTracerCounters)
    if (c.metric == metric && !c.label_value.empty()) out.insert(std::string(c.label_value));
  return out;
}

Names alert_names() {
  Names out;
  const std::string rules = slurp(RULES_YML);
  static const std::regex re(R"(- alert:\s*([A-Za-z0-9_]+))");
  for (std::sregex_iterator it(rules.begin(), rules.end(), re), end; it != end; ++it) out.insert((*it)[1]);
  EXPECT_GE(out.size(), 10u) << RULES_YML;
  return out;
}

void collect_titles(const json& panels, Names& rows, Names& others) {
  for (const auto& p : panels) {
    (p.value("type", "") == "row" ? rows : others).insert(p.value("title", ""));
    if (p.contains("panels")) collect_titles(p["panels"], rows, others);
  }
}

// ------------------------------------------------------------------ tests

// docs/metrics.md, "Families": every family slableak writes, with its labels.
TEST(DocsTables, MetricsFamiliesAndLabels) {
  const auto real = families();
  std::map<std::string, Names> documented;
  for (const auto& r : table_after(doc("metrics.md"), "| name | type | labels | meaning |", "docs/metrics.md")) {
    ASSERT_GE(r.size(), 3u);
    std::smatch m;
    if (!std::regex_match(r[0], m, std::regex("`([a-z_]+)`"))) continue;
    Names labels;
    std::stringstream ls(r[2]);
    for (std::string l; std::getline(ls, l, ',');) {
      l.erase(0, l.find_first_not_of(' '));
      l.erase(l.find_last_not_of(' ') + 1);
      if (!l.empty()) labels.insert(l);
    }
    documented[m[1]] = labels;
  }
  Names dn, rn;
  for (const auto& [n, _] : documented) dn.insert(n);
  for (const auto& [n, _] : real) rn.insert(n);
  expect_same(dn, rn, "docs/metrics.md families table");
  for (const auto& [n, labels] : real)
    if (documented.count(n)) expect_same(documented[n], labels, "docs/metrics.md, labels of " + n);
}

// slableak(8), METRICS: each `.B family` line and its `{labels}`.
TEST(DocsTables, ManPageFamilyLabels) {
  const std::string page = slurp(MAN_PAGE);
  const auto at = page.find(".SH METRICS");
  ASSERT_NE(at, std::string::npos) << MAN_PAGE;
  std::istringstream in(page.substr(at, page.find(".SH ", at + 4) - at));
  std::map<std::string, Names> documented;
  std::string line, last;
  static const std::regex fam_re(R"(^\.B (slableak_[a-z_]+)$)");
  static const std::regex lab_re(R"re(^\.RI "" "\{([a-z_, ]*)\}"$)re");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, fam_re)) {
      last = m[1];
      documented[last];
    } else if (std::regex_match(line, m, lab_re) && !last.empty()) {
      std::stringstream ls(m[1].str());
      for (std::string l; std::getline(ls, l, ',');) {
        l.erase(0, l.find_first_not_of(' '));
        if (!l.empty()) documented[last].insert(l);
      }
    }
  }
  const auto real = families();
  Names dn, rn;
  for (const auto& [n, _] : documented) dn.insert(n);
  for (const auto& [n, _] : real) rn.insert(n);
  expect_same(dn, rn, std::string(MAN_PAGE) + " METRICS families");
  for (const auto& [n, labels] : real)
    if (documented.count(n)) expect_same(documented[n], labels, std::string(MAN_PAGE) + ", labels of " + n);
}

// Every event kind and drop reason, in metrics.md's rows for the two families
// and in slableak(8)'s tracer health paragraph; no other value there.
TEST(DocsTables, EventKindsAndDropReasons) {
  const std::string metrics = doc("metrics.md");
  const std::string page = slurp(MAN_PAGE);
  const auto health = page.find("Tracer health.");
  ASSERT_NE(health, std::string::npos) << MAN_PAGE << ": no 'Tracer health.' paragraph";
  const std::string para = page.substr(health, page.find(".RE", health) - health);
  Names man_tokens;
  static const std::regex man_re(R"(^\.BR? ([a-z]+_[a-z_]+)(?: ,)?$)");
  std::istringstream in(para);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, man_re)) man_tokens.insert(m[1]);
  }
  Names all_values;
  for (const char* fam : {"slableak_tracer_events_total", "slableak_tracer_dropped_total"}) {
    const Names real = counter_label_values(fam);
    ASSERT_FALSE(real.empty()) << fam;
    all_values.insert(real.begin(), real.end());
    std::string row;
    for (const auto& r : table_after(metrics, "| name | type | labels | meaning |", "docs/metrics.md"))
      if (r.size() >= 4 && r[0] == std::string("`") + fam + "`") row = r[3];
    ASSERT_FALSE(row.empty()) << "docs/metrics.md has no row for " << fam;
    expect_same(code_identifiers(row), real, std::string("docs/metrics.md, values of ") + fam);
  }
  expect_same(man_tokens, all_values, std::string(MAN_PAGE) + ", events and drop reasons under 'Tracer health.'");
}

// docs/json.md: the keys of the `tracer` object, against write_json().
TEST(DocsTables, JsonTracerKeys) {
  std::ostringstream os;
  slableak::write_json(os, synthetic_snapshot(), 0);
  const json j = json::parse(os.str());
  Names real;
  for (const auto& [k, _] : j.at("tracer").items()) real.insert(k);
  for (const auto& c : slableak::kTracerCounters) EXPECT_TRUE(real.count(std::string(c.json))) << c.json;
  std::string row;
  for (const auto& r : table_after(doc("json.md"), "| field | type | meaning |", "docs/json.md"))
    if (!r.empty() && r[0] == "`tracer`") row = r.back();
  ASSERT_FALSE(row.empty()) << "docs/json.md has no `tracer` row";
  // The list follows the parenthesis that points at metrics.md.
  const auto list = row.find("):");
  ASSERT_NE(list, std::string::npos) << "docs/json.md `tracer` row: no '):' before the key list";
  expect_same(code_identifiers(row.substr(list)), real, "docs/json.md, keys of tracer");
}

// docs/json.md: the report's top-level fields and the fields of a stack,
// against write_json() (with --by and a slabinfo error, so the conditional
// fields are there too).
TEST(DocsTables, JsonReportFields) {
  auto s = synthetic_snapshot();
  s.by = "comm";
  s.slabinfo_error = "synthetic";
  s.stacks[0].task = "holder";
  std::ostringstream os;
  slableak::write_json(os, s, 0);
  const json j = json::parse(os.str());
  Names top, stack;
  for (const auto& [k, _] : j.items()) top.insert(k);
  for (const auto& [k, _] : j.at("stacks").at(0).items()) stack.insert(k);
  const std::string text = doc("json.md");
  static const std::regex name_re(R"(`([a-z_]+)(?:\[\])?`)");
  const auto first_cell_names = [&](const std::vector<std::vector<std::string>>& rows) {
    Names out;
    for (const auto& r : rows)
      if (!r.empty())
        for (std::sregex_iterator it(r[0].begin(), r[0].end(), name_re), end; it != end; ++it) out.insert((*it)[1]);
    return out;
  };
  expect_same(first_cell_names(table_after(text, "| field | type | meaning |", "docs/json.md")), top,
              "docs/json.md, report fields");
  const auto at = text.find("Each element of `stacks`:");
  ASSERT_NE(at, std::string::npos) << "docs/json.md: no 'Each element of `stacks`:'";
  expect_same(first_cell_names(table_after(text.substr(at), "| field | type | meaning |", "docs/json.md")), stack,
              "docs/json.md, fields of stacks[]");
}

// docs/design.md's table of kernel maps names every map the BPF object
// declares (SEC(".maps") in bpf/), and no other; rows typed .bss are
// globals, not maps, and are left out.
TEST(DocsTables, KernelMaps) {
  Names real;
  static const std::regex map_re(R"re(\}\s*([a-z_0-9]+)\s+SEC\("\.maps"\))re");
  for (const auto& e : std::filesystem::directory_iterator(BPF_DIR)) {
    const std::string src = slurp(e.path().string());
    for (std::sregex_iterator it(src.begin(), src.end(), map_re), end; it != end; ++it) real.insert((*it)[1]);
  }
  EXPECT_GE(real.size(), 15u) << BPF_DIR;
  Names documented;
  for (const auto& r : table_after(doc("design.md"), "| map | type | key → value | sized by |", "docs/design.md")) {
    if (r.size() < 2 || r[1].find(".bss") != std::string::npos) continue;
    for (const auto& n : code_identifiers(r[0])) documented.insert(n);
  }
  expect_same(documented, real, "docs/design.md, kernel maps");
}

// Advice per drop reason: the runbook's table and the alert's description
// name every reason (the alert leaves recursion_miss to its own alert).
TEST(DocsTables, EveryDropReasonHasAdvice) {
  const Names reasons = counter_label_values("slableak_tracer_dropped_total");
  std::string table;
  for (const auto& r : table_after(doc("runbook.md"), "| symptom | meaning | what to do |", "docs/runbook.md"))
    table += r.empty() ? "" : r[0] + "\n";
  for (const auto& r : reasons)
    EXPECT_NE(table.find("\"" + r + "\""), std::string::npos)
        << "docs/runbook.md, 'When the numbers look wrong': no row for reason \"" << r << "\"";
  const std::string rules = slurp(RULES_YML);
  const auto at = rules.find("alert: SlableakTracerDroppingEvents");
  ASSERT_NE(at, std::string::npos);
  const std::string rule = rules.substr(at, rules.find("- alert:", at + 1) - at);
  const auto desc = rule.find("description:");
  ASSERT_NE(desc, std::string::npos) << "SlableakTracerDroppingEvents has no description";
  for (const auto& r : reasons)
    if (r != "recursion_miss")
      EXPECT_NE(rule.find(r, desc), std::string::npos)
          << RULES_YML << ": SlableakTracerDroppingEvents's description says nothing about " << r;
}

// docs/operations.md's alert table lists exactly the rules, and each rule
// has a promtool case; any alert named elsewhere in the docs exists.
TEST(DocsTables, AlertNames) {
  const Names real = alert_names();
  Names table;
  for (const auto& r : table_after(doc("operations.md"), "<!-- alerts: deploy/prometheus/slableak-rules.yml -->",
                                   "docs/operations.md"))
    if (!r.empty() && r[0].size() > 2) table.insert(r[0].substr(1, r[0].size() - 2));
  expect_same(table, real, "docs/operations.md alert table");

  const std::string tests = slurp(RULES_TEST_YML);
  for (const auto& a : real)
    EXPECT_NE(tests.find("alertname: " + a + "\n"), std::string::npos) << RULES_TEST_YML << ": no case for " << a;

  static const std::regex name_re(R"(\bSlab(?:leak)?[A-Z][A-Za-z]+\b)");
  for (const std::string f : {"README.md", "docs/runbook.md", "docs/operations.md", "docs/verdicts.md",
                              "docs/metrics.md", "docs/cli.md", "docs/design.md", "docs/reliability.md",
                              "docs/kernels.md", "docs/performance.md"}) {
    const std::string t = slurp(std::string(DOCS_DIR) + "/../" + f);
    for (std::sregex_iterator it(t.begin(), t.end(), name_re), end; it != end; ++it)
      EXPECT_TRUE(real.count(it->str())) << f << " names alert " << it->str() << ", which the rules do not have";
  }
  const std::string dash = slurp(DASHBOARD_JSON);
  for (std::sregex_iterator it(dash.begin(), dash.end(), name_re), end; it != end; ++it)
    EXPECT_TRUE(real.count(it->str())) << DASHBOARD_JSON << " names alert " << it->str();
}

// docs/operations.md lists every row (bold) and panel of the dashboard; the
// runbook's panel names (italics starting upper case) are real titles.
TEST(DocsTables, DashboardPanelTitles) {
  const json d = json::parse(slurp(DASHBOARD_JSON));
  Names rows, panels;
  collect_titles(d.at("panels"), rows, panels);
  Names doc_rows, doc_panels;
  for (const auto& r : table_after(doc("operations.md"), "<!-- dashboard-panels: deploy/grafana/slableak.json -->",
                                   "docs/operations.md")) {
    if (r.empty()) continue;
    const std::string& t = r[0];
    if (t.size() > 4 && t.rfind("**", 0) == 0 && t.substr(t.size() - 2) == "**")
      doc_rows.insert(t.substr(2, t.size() - 4));
    else
      doc_panels.insert(t);
  }
  expect_same(doc_rows, rows, "docs/operations.md dashboard table, rows");
  expect_same(doc_panels, panels, "docs/operations.md dashboard table, panels");

  Names all = rows;
  all.insert(panels.begin(), panels.end());
  const std::string runbook = doc("runbook.md");
  static const std::regex italic(R"((?:^|[^*\w])\*([A-Z][^*\n]*[^*\s])\*(?!\*))");
  size_t n = 0;
  for (std::sregex_iterator it(runbook.begin(), runbook.end(), italic), end; it != end; ++it, ++n)
    EXPECT_TRUE(all.count((*it)[1])) << "docs/runbook.md names panel '" << (*it)[1]
                                     << "', which deploy/grafana/slableak.json does not have";
  EXPECT_GE(n, 5u) << "docs/runbook.md: no panel names found (italics)";
}

}  // namespace
