// The operations kit refers only to metrics that exist.
//
// deploy/grafana/slableak.json and deploy/prometheus/slableak-rules.yml name
// metrics in PromQL. A misspelt name does not fail anywhere: the panel is
// empty, the alert never fires. So every metric name (and every label a
// selector, grouping or legend uses) is checked against what is really
// exported:
//   - slableak: render_prometheus() on a synthetic Snapshot (no root, no BPF);
//   - node_exporter: Debian's /usr/bin/prometheus-node-exporter, default
//     collectors, on a free loopback port, scraped with curl. Its textfile
//     directory holds the synthetic slableak.prom, so the node_textfile_*
//     series exist and node_exporter's verdict on our file is checked too.
// Without node_exporter or curl the node_exporter half skips; under CI=true
// that is a failure.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "prometheus_text.h"
#include "snapshot.h"

namespace {

using json = nlohmann::json;
using Labels = std::set<std::string>;
using Catalog = std::map<std::string, Labels>;  // metric name -> label names seen

bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

#define SKIP_OR_FAIL(why)                                   \
  do {                                                      \
    if (running_in_ci()) FAIL() << "CI=true but " << (why); \
    GTEST_SKIP() << (why);                                  \
  } while (0)

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ------------------------------------------------------------ exposition

// Metric names (from TYPE lines and samples) and the label names of samples.
Catalog parse_exposition(const std::string& text) {
  Catalog out;
  std::istringstream in(text);
  std::string line;
  static const std::regex type_re(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) )");
  static const std::regex name_re(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*))");
  static const std::regex label_re(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*")re");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, type_re)) {
      out[m[1]];
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    if (!std::regex_search(line, m, name_re)) continue;
    auto& labels = out[m[1]];
    const auto brace = line.find('{');
    if (brace == std::string::npos) continue;
    const auto close = line.rfind('}');
    const std::string inner = line.substr(brace + 1, close - brace - 1);
    for (std::sregex_iterator it(inner.begin(), inner.end(), label_re), end; it != end; ++it)
      labels.insert((*it)[1]);
  }
  return out;
}

// A Snapshot that makes every family render at least one sample: two
// caches, more stacks than top_stacks (so "other" exists), all counters set.
slableak::Snapshot synthetic_snapshot() {
  using namespace slableak;
  Snapshot s;
  s.unix_time = 1.7e9;
  s.elapsed_s = 600;
  s.method = "kfunc";
  s.sample_every = 64;
  for (const char* name : {"kmalloc-2k", "kmalloc-cg-2k"}) {
    CacheHeader c;
    c.name = name;
    c.object_size = 2048;
    c.in_slabinfo = true;
    c.slab_active_start = 1000;
    c.slab_active_now = 4000;
    c.attributed_objects = 2900;
    c.attributed_bytes = 2900 * 2048;
    s.caches.push_back(c);
  }
  for (int i = 0; i < 6; ++i) {
    StackReport st;
    st.cache = i % 2 ? "kmalloc-cg-2k" : "kmalloc-2k";
    char id[17];
    std::snprintf(id, sizeof id, "%016x", 0x5335cb85 + i);
    st.stack_id = id;
    st.frames = {"__alloc_skb+0x86", "netlink_sendmsg+0x152", "__sys_sendto+0x242"};
    st.functions = {"__alloc_skb", "netlink_sendmsg", "__sys_sendto"};
    st.objects = 100 * (i + 1);
    st.bytes = st.objects * 2048;
    st.allocs = 200 * (i + 1);
    st.frees = 100 * (i + 1);
    st.oldest_age_s = 300;
    st.age_objects.fill(1);
    st.growth_objects_per_s = 0.5;
    st.growth_bytes_per_s = 1024;
    st.verdict = slableak::kVerdicts[i % 4];
    st.verdict_evidence = "synthetic";
    s.stacks.push_back(st);
  }
  auto& h = s.health;
  using C = slableak::TracerCounter;
  h.counters[C::allocs_selected] = 1000, h.counters[C::allocs_tracked] = 20, h.counters[C::allocs_unsampled] = 980;
  h.counters[C::frees_tracked] = 10, h.counters[C::implicit_frees] = 1, h.counters[C::drop_live_full] = 1;
  h.counters[C::drop_agg_full] = 1, h.counters[C::stack_errors] = 1, h.counters[C::recursion_misses] = 1;
  h.live_objects = 10, h.live_capacity = 262144, h.agg_entries = 6, h.agg_capacity = 65536;
  h.stack_entries = 6, h.stack_capacity = 16384, h.kernel_map_bytes = 1 << 20;
  return s;
}

std::string slableak_exposition() {
  slableak::ExpositionInfo info;
  info.top_stacks = 2;
  info.version = "0.0.0-test";
  info.kernel = "6.18.0-test";
  info.last_update_unix = 1.7e9;
  info.push = true;  // export --push-pprof: its counters too
  return slableak::render_prometheus(synthetic_snapshot(), info);
}

// ------------------------------------------------------------ node_exporter

int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

std::string run_capture(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    *status = -1;
    return out;
  }
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = pclose(p);
  return out;
}

// One node_exporter for the whole suite, ended by PID.
struct NodeExporter {
  std::string unavailable;  // why it could not run; empty if it did
  std::string scrape;       // its /metrics body
  Catalog catalog;
};

NodeExporter run_node_exporter() {
  NodeExporter ne;
  if (access(NODE_EXPORTER_BIN, X_OK) != 0) {
    ne.unavailable = std::string(NODE_EXPORTER_BIN) + " is missing (apt-get install prometheus-node-exporter)";
    return ne;
  }
  if (access(CURL_BIN, X_OK) != 0) {
    ne.unavailable = std::string(CURL_BIN) + " is missing (apt-get install curl)";
    return ne;
  }
  char tmpl[] = "/tmp/slableak-ops-test.XXXXXX";
  const char* dir = mkdtemp(tmpl);
  if (!dir) {
    ne.unavailable = "mkdtemp failed";
    return ne;
  }
  chmod(dir, 0755);
  const std::string textfile_dir = dir;
  std::ofstream(textfile_dir + "/slableak.prom") << slableak_exposition();

  for (int attempt = 0; attempt < 3 && ne.scrape.empty(); ++attempt) {
    const int port = free_loopback_port();
    if (port <= 0) continue;
    const std::string listen = "127.0.0.1:" + std::to_string(port);
    const std::string flag_listen = "--web.listen-address=" + listen;
    const std::string flag_dir = "--collector.textfile.directory=" + textfile_dir;
    const pid_t pid = fork();
    if (pid == 0) {
      int null = open("/dev/null", O_RDWR | O_CLOEXEC);
      dup2(null, STDIN_FILENO);
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
      execl(NODE_EXPORTER_BIN, NODE_EXPORTER_BIN, flag_listen.c_str(), flag_dir.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid < 0) break;
    const std::string cmd = std::string(CURL_BIN) + " -sS --fail --max-time 5 http://" + listen + "/metrics 2>/dev/null";
    for (int i = 0; i < 100; ++i) {
      int st = 0;
      std::string body = run_capture(cmd, &st);
      if (st == 0 && body.find("node_exporter_build_info") != std::string::npos) {
        ne.scrape = std::move(body);
        break;
      }
      if (waitpid(pid, &st, WNOHANG) == pid) break;  // exited: port taken, try another
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid, SIGTERM);
    int st = 0;
    for (int i = 0; i < 50 && waitpid(pid, &st, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (waitpid(pid, &st, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
    }
  }
  std::filesystem::remove_all(textfile_dir);
  if (ne.scrape.empty()) ne.unavailable = "node_exporter did not serve /metrics on a loopback port";
  else ne.catalog = parse_exposition(ne.scrape);
  return ne;
}

const NodeExporter& node_exporter() {
  static const NodeExporter ne = run_node_exporter();
  return ne;
}

// ------------------------------------------------------------ PromQL

// What one PromQL expression refers to.
struct Refs {
  std::vector<std::string> metrics;
  std::vector<std::pair<std::string, std::string>> matcher_labels;  // (metric or "", label)
  std::vector<std::string> grouping_labels;                          // by/without/on/ignoring/group_*
  std::vector<std::string> created_labels;                           // label_replace destinations
  std::vector<std::string> source_labels;                            // label_replace sources
};

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool is_ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }

// A scanner for the PromQL we write, not a parser: strings are blanked,
// Grafana variables replaced, then every identifier is classified as a
// keyword, function, grouping list, matcher label, or metric name.
Refs scan_promql(std::string e) {
  Refs r;
  // label_replace(v, "dst", "replacement", "src", "regex")
  static const std::regex lr(R"re(,\s*"([a-zA-Z_][a-zA-Z0-9_]*)"\s*,\s*"(?:[^"\\]|\\.)*"\s*,\s*"([a-zA-Z_][a-zA-Z0-9_]*)"\s*,\s*")re");
  for (std::sregex_iterator it(e.begin(), e.end(), lr), end; it != end; ++it) {
    r.created_labels.push_back((*it)[1]);
    r.source_labels.push_back((*it)[2]);
  }
  // Blank string contents (keep the quotes) so nothing inside is scanned.
  for (size_t i = 0; i < e.size(); ++i) {
    if (e[i] != '"' && e[i] != '\'' && e[i] != '`') continue;
    const char q = e[i];
    size_t j = i + 1;
    while (j < e.size() && e[j] != q) {
      if (e[j] == '\\' && q != '`') e[j++] = ' ';
      if (j < e.size()) e[j++] = ' ';
    }
    i = j;
  }
  // Grafana variables: $__rate_interval, ${var}, $var.
  e = std::regex_replace(e, std::regex(R"(\$\{[^}]*\}|\$[a-zA-Z_][a-zA-Z0-9_]*)"), "1m");

  static const std::set<std::string> keywords = {"and", "or", "unless", "bool", "offset", "by", "without", "on",
                                                  "ignoring", "group_left", "group_right", "inf", "nan", "atan2"};
  static const std::set<std::string> grouping = {"by", "without", "on", "ignoring", "group_left", "group_right"};
  // Aggregations may put their grouping first: "sum by (x) (...)".
  static const std::set<std::string> aggregations = {"sum", "min", "max", "avg", "group", "stddev", "stdvar",
                                                      "count", "count_values", "bottomk", "topk", "quantile"};
  std::string last_ident;  // metric name before a '{'
  for (size_t i = 0; i < e.size();) {
    const char c = e[i];
    if (c == '[') {  // range or subquery: durations only
      i = e.find(']', i);
      if (i == std::string::npos) break;
      ++i;
      continue;
    }
    if (c == '{') {  // matchers: label op "value"
      const size_t close = e.find('}', i);
      const std::string inner = e.substr(i + 1, close - i - 1);
      static const std::regex m(R"(([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=))");
      for (std::sregex_iterator it(inner.begin(), inner.end(), m), end; it != end; ++it)
        r.matcher_labels.emplace_back(last_ident, (*it)[1]);
      last_ident.clear();
      i = close == std::string::npos ? e.size() : close + 1;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && i + 1 < e.size() && std::isdigit(static_cast<unsigned char>(e[i + 1])))) {
      while (i < e.size() && (is_ident(e[i]) || e[i] == '.')) ++i;  // numbers, durations, 1e9
      continue;
    }
    if (!is_ident_start(c)) {
      if (!std::isspace(static_cast<unsigned char>(c))) last_ident.clear();
      ++i;
      continue;
    }
    size_t j = i;
    while (j < e.size() && is_ident(e[j])) ++j;
    const std::string word = e.substr(i, j - i);
    size_t k = j;
    while (k < e.size() && std::isspace(static_cast<unsigned char>(e[k]))) ++k;
    const bool call = k < e.size() && e[k] == '(';
    std::string lower = word;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (grouping.count(lower) && call) {
      const size_t close = e.find(')', k);
      const std::string inner = e.substr(k + 1, close - k - 1);
      static const std::regex id(R"([a-zA-Z_][a-zA-Z0-9_]*)");
      for (std::sregex_iterator it(inner.begin(), inner.end(), id), end; it != end; ++it)
        r.grouping_labels.push_back((*it)[0]);
      i = close == std::string::npos ? e.size() : close + 1;
      last_ident.clear();
      continue;
    }
    if (keywords.count(lower) || call || aggregations.count(lower)) {
      last_ident.clear();
    } else {
      r.metrics.push_back(word);
      last_ident = word;
    }
    i = j;
  }
  return r;
}

// ------------------------------------------------------------ sources

struct Expr {
  std::string where;  // panel title / rule name, for messages
  std::string expr;
  std::string legend;
};

json load_dashboard() { return json::parse(read_file(DASHBOARD_JSON)); }

void collect_panels(const json& panels, std::vector<json>& out) {
  for (const auto& p : panels) {
    out.push_back(p);
    if (p.contains("panels")) collect_panels(p["panels"], out);
  }
}

std::vector<json> all_panels(const json& d) {
  std::vector<json> out;
  collect_panels(d.at("panels"), out);
  return out;
}

std::vector<Expr> dashboard_exprs(const json& d) {
  std::vector<Expr> out;
  for (const auto& p : all_panels(d)) {
    if (!p.contains("targets")) continue;
    for (const auto& t : p["targets"])
      out.push_back({"panel '" + p.value("title", "?") + "' " + t.value("refId", "?"), t.value("expr", ""),
                     t.value("legendFormat", "")});
  }
  // Template variables: label_values(<selector>, label) / query_result(<expr>).
  for (const auto& v : d["templating"]["list"]) {
    if (v.value("type", "") != "query") continue;
    std::string q = v["query"].is_object() ? v["query"].value("query", "") : v["query"].get<std::string>();
    std::smatch m;
    if (std::regex_match(q, m, std::regex(R"(\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)\s*)"))) {
      // The label must exist on the metric: checked like a legend label.
      out.push_back({"variable $" + v.value("name", "?"), m[1], "{{" + m[2].str() + "}}"});
    } else if (std::regex_match(q, m, std::regex(R"(\s*query_result\((.*)\)\s*)"))) {
      out.push_back({"variable $" + v.value("name", "?"), m[1], ""});
    } else {
      out.push_back({"variable $" + v.value("name", "?"), q, ""});
    }
  }
  return out;
}

// `expr:` values from a rules file: inline, or a block scalar (| or >).
std::vector<Expr> rule_exprs(const std::string& yaml) {
  std::vector<Expr> out;
  std::istringstream in(yaml);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string current = "?";
  static const std::regex name_re(R"(^\s*-?\s*(alert|record):\s*(\S+))");
  static const std::regex expr_re(R"(^(\s*)-?\s*expr:\s*(.*)$)");
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (std::regex_search(lines[i], m, name_re)) current = m[2];
    if (!std::regex_match(lines[i], m, expr_re)) continue;
    const size_t indent = m[1].length();
    std::string value = m[2];
    if (value.empty() || value[0] == '|' || value[0] == '>') {
      value.clear();
      for (size_t j = i + 1; j < lines.size(); ++j) {
        const auto first = lines[j].find_first_not_of(' ');
        if (first == std::string::npos) continue;
        if (first <= indent) break;
        value += lines[j] + "\n";
      }
    } else if (value.size() >= 2 && (value[0] == '\'' || value[0] == '"')) {
      value = value.substr(1, value.size() - 2);
    }
    out.push_back({"rule " + current, value, ""});
  }
  return out;
}

// ------------------------------------------------------------ checks

const std::set<std::string> kTargetLabels = {"instance", "job"};  // added by Prometheus at scrape

// Every metric and label of @e is known to @cat; failures name @e.where.
void expect_known(const Expr& e, const Catalog& cat) {
  SCOPED_TRACE(e.where + ": " + e.expr);
  const Refs r = scan_promql(e.expr);
  Labels in_expr = kTargetLabels;
  for (const auto& m : r.metrics) {
    auto it = cat.find(m);
    EXPECT_NE(it, cat.end()) << "metric '" << m << "' is exported neither by slableak nor by node_exporter";
    if (it != cat.end()) in_expr.insert(it->second.begin(), it->second.end());
  }
  for (const auto& [metric, label] : r.matcher_labels) {
    if (label == "__name__") continue;
    auto it = cat.find(metric);
    if (metric.empty() || it == cat.end()) continue;
    EXPECT_TRUE(kTargetLabels.count(label) || it->second.count(label))
        << "selector " << metric << "{" << label << "...}: " << metric << " has no label '" << label << "'";
  }
  for (const auto& l : r.source_labels)
    EXPECT_TRUE(in_expr.count(l)) << "label_replace reads label '" << l << "' that no metric here has";
  in_expr.insert(r.created_labels.begin(), r.created_labels.end());
  for (const auto& l : r.grouping_labels)
    EXPECT_TRUE(in_expr.count(l)) << "grouping/matching on label '" << l << "' that no metric here has";
  static const std::regex legend_re(R"(\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\})");
  for (std::sregex_iterator it(e.legend.begin(), e.legend.end(), legend_re), end; it != end; ++it)
    EXPECT_TRUE(in_expr.count((*it)[1])) << "legend uses {{" << (*it)[1] << "}} that no metric here has";
}

// The series the recording rules of @yaml make: each `record:` name with
// the labels of its outermost aggregation's `by (...)`, checked in turn
// against what its expression reads (AlertRules.*).
Catalog recorded_catalog(const std::string& yaml) {
  Catalog out;
  const auto exprs = rule_exprs(yaml);
  for (const auto& e : exprs) {
    if (e.where.rfind("rule slableak:", 0) != 0) continue;
    const std::string name = e.where.substr(5);
    std::smatch m;
    auto& labels = out[name];
    if (std::regex_search(e.expr, m, std::regex(R"(^\s*(?:sum|count|max|min|avg)\s+by\s*\(([^)]*)\))"))) {
      const std::string inner = m[1];
      static const std::regex id(R"([a-zA-Z_][a-zA-Z0-9_]*)");
      for (std::sregex_iterator it(inner.begin(), inner.end(), id), end; it != end; ++it) labels.insert((*it)[0]);
    }
  }
  return out;
}

Catalog full_catalog(const NodeExporter& ne) {
  Catalog cat = parse_exposition(slableak_exposition());
  for (const auto& [k, v] : ne.catalog) cat[k].insert(v.begin(), v.end());
  for (const auto& [k, v] : recorded_catalog(read_file(RULES_YML))) cat[k].insert(v.begin(), v.end());
  return cat;
}

// ------------------------------------------------------------ tests

TEST(PromqlScanner, ClassifiesIdentifiers) {
  const Refs r = scan_promql(
      R"(topk(10, sum by (instance, cache) (rate(slableak_allocations_total{cache=~"$cache", instance!="a b"}[$__rate_interval])))
         / on(instance) group_left(top_frame) slableak_stack_info offset 5m and node_load1 > bool 1e3)");
  EXPECT_EQ(r.metrics, (std::vector<std::string>{"slableak_allocations_total", "slableak_stack_info", "node_load1"}));
  ASSERT_EQ(r.matcher_labels.size(), 2u);
  EXPECT_EQ(r.matcher_labels[0], (std::pair<std::string, std::string>{"slableak_allocations_total", "cache"}));
  EXPECT_EQ(r.grouping_labels, (std::vector<std::string>{"instance", "cache", "instance", "top_frame"}));
  const Refs lr = scan_promql(R"(label_replace(up, "path", "$1 ← $2", "frames", "([^;]+);.*"))");
  EXPECT_EQ(lr.metrics, std::vector<std::string>{"up"});
  EXPECT_EQ(lr.created_labels, std::vector<std::string>{"path"});
  EXPECT_EQ(lr.source_labels, std::vector<std::string>{"frames"});
}

TEST(SlableakExposition, SyntheticSnapshotRendersTheFamiliesTheKitUses) {
  const Catalog cat = parse_exposition(slableak_exposition());
  for (const char* name :
       {"slableak_stack_outstanding_bytes", "slableak_stack_info", "slableak_cache_outstanding_bytes",
        "slableak_cache_outstanding_objects_by_age", "slableak_tracer_dropped_total", "slableak_tracer_implicit_frees_total",
        "slableak_tracer_map_entries", "slableak_tracer_map_capacity", "slableak_last_update_timestamp_seconds",
        "slableak_build_info", "slableak_stack_verdict", "slableak_cache_outstanding_bytes_by_verdict"})
    EXPECT_TRUE(cat.count(name)) << name;
  EXPECT_TRUE(cat.at("slableak_stack_verdict").count("verdict"));
  EXPECT_TRUE(cat.at("slableak_cache_outstanding_bytes_by_verdict").count("verdict"));
  EXPECT_TRUE(cat.at("slableak_stack_info").count("top_frame"));
  EXPECT_TRUE(cat.at("slableak_stack_info").count("frames"));
}

TEST(Dashboard, IsAGrafanaDashboard) {
  json d;
  ASSERT_NO_THROW(d = load_dashboard()) << DASHBOARD_JSON << " is not valid JSON";
  EXPECT_EQ(d.value("uid", ""), "slableak");
  EXPECT_FALSE(d.value("title", "").empty());
  EXPECT_TRUE(d.contains("schemaVersion"));
  ASSERT_TRUE(d.contains("templating"));
  std::set<std::string> vars;
  for (const auto& v : d["templating"]["list"]) vars.insert(v.value("name", ""));
  EXPECT_TRUE(vars.count("datasource") && vars.count("instance") && vars.count("cache"));

  std::set<int> ids;
  size_t queried = 0;
  for (const auto& p : all_panels(d)) {
    const std::string title = p.value("title", "");
    SCOPED_TRACE("panel '" + title + "'");
    EXPECT_FALSE(title.empty());
    ASSERT_TRUE(p.contains("id"));
    EXPECT_TRUE(ids.insert(p["id"].get<int>()).second) << "duplicate panel id " << p["id"];
    ASSERT_TRUE(p.contains("gridPos"));
    const auto& g = p["gridPos"];
    EXPECT_GE(g.value("w", 0), 1);
    EXPECT_LE(g.value("x", 0) + g.value("w", 0), 24);
    EXPECT_GE(g.value("h", 0), 1);
    if (p.value("type", "") == "row") continue;
    EXPECT_EQ(p["datasource"].value("uid", ""), "${datasource}");
    ASSERT_TRUE(p.contains("targets"));
    ASSERT_FALSE(p["targets"].empty());
    std::set<std::string> refs;
    for (const auto& t : p["targets"]) {
      EXPECT_FALSE(t.value("expr", "").empty());
      EXPECT_TRUE(refs.insert(t.value("refId", "")).second) << "duplicate refId";
      ++queried;
    }
  }
  EXPECT_GT(queried, 10u);
}

TEST(Dashboard, CoversWhatAnInvestigationNeeds) {
  const json d = load_dashboard();
  std::string all;
  for (const auto& e : dashboard_exprs(d)) all += e.expr + "\n";
  for (const char* name : {"node_memory_SUnreclaim_bytes", "slableak_stack_outstanding_bytes", "slableak_stack_info",
                           "slableak_cache_outstanding_objects_by_age", "slableak_tracer_dropped_total",
                           "slableak_tracer_implicit_frees_total", "slableak_tracer_map_entries",
                           "slableak_last_update_timestamp_seconds", "slableak_stack_verdict",
                           "slableak_cache_outstanding_bytes_by_verdict", "slableak_cache_counts_upper_bound"})
    EXPECT_NE(all.find(name), std::string::npos) << "no panel uses " << name;
  // Readable legends: bytes by stack joined with the info metric on stack_id.
  bool joined = false;
  for (const auto& e : dashboard_exprs(d)) {
    const Refs r = scan_promql(e.expr);
    const bool bytes = std::count(r.metrics.begin(), r.metrics.end(), "slableak_stack_outstanding_bytes");
    const bool info = std::count(r.metrics.begin(), r.metrics.end(), "slableak_stack_info");
    const bool on_id = std::count(r.grouping_labels.begin(), r.grouping_labels.end(), "stack_id");
    joined = joined || (bytes && info && on_id);
  }
  EXPECT_TRUE(joined) << "no panel joins slableak_stack_outstanding_bytes with slableak_stack_info on stack_id";
}

TEST(Dashboard, UsesOnlyMetricsAndLabelsThatExist) {
  const NodeExporter& ne = node_exporter();
  if (!ne.unavailable.empty()) SKIP_OR_FAIL(ne.unavailable);
  const Catalog cat = full_catalog(ne);
  for (const auto& e : dashboard_exprs(load_dashboard())) expect_known(e, cat);
}

// The fleet dashboard: across hosts by stack_fn_id, through the recording rules.
TEST(FleetDashboard, IsAGrafanaDashboardOnTheRecordingRules) {
  json d;
  ASSERT_NO_THROW(d = json::parse(read_file(FLEET_DASHBOARD_JSON))) << FLEET_DASHBOARD_JSON << " is not valid JSON";
  EXPECT_EQ(d.value("uid", ""), "slableak-fleet");
  std::set<int> ids;
  std::string all;
  for (const auto& p : all_panels(d)) {
    SCOPED_TRACE("panel '" + p.value("title", "") + "'");
    EXPECT_TRUE(ids.insert(p.at("id").get<int>()).second) << "duplicate panel id";
    const auto& g = p.at("gridPos");
    EXPECT_LE(g.value("x", 0) + g.value("w", 0), 24);
    if (p.value("type", "") == "row") continue;
    EXPECT_EQ(p["datasource"].value("uid", ""), "${datasource}");
    ASSERT_FALSE(p.at("targets").empty());
    for (const auto& t : p["targets"]) all += t.value("expr", "") + "\n";
  }
  const Catalog recorded = recorded_catalog(read_file(RULES_YML));
  for (const char* name : {"slableak:stack_fn_outstanding_bytes:fleet", "slableak:stack_fn_hosts_affected",
                           "slableak:stack_fn_growth_bytes_per_second", "slableak:stack_fn_outstanding_bytes"}) {
    EXPECT_NE(all.find(name), std::string::npos) << "no panel uses " << name;
    ASSERT_TRUE(recorded.count(name)) << name << " is not recorded by " << RULES_YML;
    EXPECT_TRUE(recorded.at(name).count("stack_fn_id")) << name << " is not by stack_fn_id";
  }
}

TEST(FleetDashboard, UsesOnlyMetricsAndLabelsThatExist) {
  const NodeExporter& ne = node_exporter();
  if (!ne.unavailable.empty()) SKIP_OR_FAIL(ne.unavailable);
  const Catalog cat = full_catalog(ne);
  for (const auto& e : dashboard_exprs(json::parse(read_file(FLEET_DASHBOARD_JSON)))) expect_known(e, cat);
}

TEST(AlertRules, UseOnlyMetricsAndLabelsThatExist) {
  const NodeExporter& ne = node_exporter();
  if (!ne.unavailable.empty()) SKIP_OR_FAIL(ne.unavailable);
  const Catalog cat = full_catalog(ne);
  const auto exprs = rule_exprs(read_file(RULES_YML));
  EXPECT_GE(exprs.size(), 4u);
  for (const auto& e : exprs) expect_known(e, cat);
}

// The promtool unit tests feed synthetic series: they must be real series,
// or the tests prove nothing about production.
TEST(AlertRules, UnitTestSeriesAreRealMetrics) {
  const NodeExporter& ne = node_exporter();
  if (!ne.unavailable.empty()) SKIP_OR_FAIL(ne.unavailable);
  const Catalog cat = full_catalog(ne);
  std::istringstream in(read_file(RULES_TEST_YML));
  static const std::regex series_re(R"re(series:\s*'([^']*)')re");
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, series_re)) continue;
    ++n;
    expect_known({"series in " + std::string(RULES_TEST_YML), m[1], ""}, cat);
  }
  EXPECT_GT(n, 10u);
}

// slableak(8) lists every metric family that `slableak export` writes.
TEST(ManPage, DocumentsEveryMetricFamily) {
  const std::string page = read_file(MAN_PAGE);
  ASSERT_FALSE(page.empty()) << MAN_PAGE;
  for (const auto& [name, labels] : parse_exposition(slableak_exposition()))
    EXPECT_NE(page.find(".B " + name + "\n"), std::string::npos) << name << " is not in the METRICS section of " << MAN_PAGE;
}

TEST(NodeExporter, ServesSlableakTextfile) {
  const NodeExporter& ne = node_exporter();
  if (!ne.unavailable.empty()) SKIP_OR_FAIL(ne.unavailable);
  EXPECT_NE(ne.scrape.find("\nnode_textfile_scrape_error 0\n"), std::string::npos)
      << "node_exporter rejected the slableak textfile";
  EXPECT_TRUE(ne.catalog.count("slableak_build_info"));
  EXPECT_TRUE(ne.catalog.count("node_memory_SUnreclaim_bytes"));
}

}  // namespace
