#include "run_config.h"

#include <CLI/CLI.hpp>
#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cache_naming.h"
#include "error.h"
#include "metrics_server.h"
#include "printable.h"
#include "slableak.h"
#include "units.h"
#include "version.h"

namespace slableak {
namespace {

// The exporter runs for weeks, so it samples and keeps a smaller live map
// (defaults chosen from the benchmark, docs/performance.md).
constexpr uint32_t kExportSampleEvery = 64;
constexpr uint64_t kExportMaxTracked = 262144;

// Every option as the user typed it; numbers and enums are checked by us,
// not by CLI11, so that every mistake gets the same one-line usage error.
struct Raw {
  std::vector<std::string> caches;
  std::string method = "auto", max_tracked = "1M", sample_every = "1", max_stacks = "16384", max_aggregates = "65536";
  std::string stack_idle = "10m";
  std::string by = "none", by_limit = std::to_string(TraceOptions{}.by_limit), ready_fd;
  bool show_addresses = false, stack_cache = true;
  std::string duration = "30s", min_age = "0s", interval, top = "20", format = "table", sort = "verdict";
  std::string textfile_dir = "/var/lib/prometheus/node-exporter", listen, top_stacks = "20";
  // capture_keep and capture_max_bytes stay "" unless given (their defaults
  // are kDefaultCaptureKeep/-MaxBytes), so that one given without
  // --capture-dir is an error rather than silently nothing.
  std::string capture_dir, capture_keep, capture_max_bytes, capture_sunreclaim, capture_growth;
  bool no_capture_on_oom = false, capture_on_leaking = false;
  std::string push_pprof, push_interval;
  bool no_textfile = false, once = false;
};

void add_trace_options(CLI::App* cmd, Raw& raw) {
  cmd->add_option("-c,--cache", raw.caches, "slab cache to follow (repeatable; default kmalloc-2k)")
      ->default_str(TraceOptions{}.caches.front());
  cmd->add_option("--max-tracked", raw.max_tracked, "live objects tracked at most (kernel map size)")
      ->capture_default_str();
  cmd->add_option("--sample-every", raw.sample_every, "track one in N allocations; counts are scaled by N")
      ->capture_default_str();
  cmd->add_option("--max-stacks", raw.max_stacks, "distinct kernel stacks kept")->capture_default_str();
  cmd->add_option("--max-aggregates", raw.max_aggregates, "(stack, cache, epoch) summaries kept")
      ->capture_default_str();
  cmd->add_option("--stack-idle", raw.stack_idle,
                  "retire a stack after this long with nothing outstanding and no allocation (frees its --max-stacks slot)")
      ->capture_default_str();
  cmd->add_option("--method", raw.method, "how the cache of an object is named: auto, kfunc, slab, derived")
      ->capture_default_str();
  cmd->add_option("--by", raw.by,
                  "also split held objects by who allocated them: none, comm, pid or cgroup")
      ->capture_default_str();
  cmd->add_option("--by-limit", raw.by_limit,
                  "tasks with rows of their own under --by; later ones share \"other\"")
      ->capture_default_str();
  cmd->add_flag("--show-addresses", raw.show_addresses, "print raw kernel addresses too (defeats KASLR)");
  cmd->add_flag("!--no-stack-cache", raw.stack_cache,
                "unwind every tracked allocation instead of reusing verified stack fingerprints");
  cmd->add_option("--ready-fd", raw.ready_fd,
                  "once tracing, write one JSON line to this open file descriptor and close it (for scripts)");
}


uint64_t parse_in_range(const std::string& text, const char* option, Range r) {
  const uint64_t v = parse_count(text, option);
  if (v < r.min || v > r.max)
    throw usage_error(std::string(option) + " " + printable(text) + " is out of range: use " + std::to_string(r.min) +
                      " to " + std::to_string(r.max));
  return v;
}

std::chrono::duration<double> seconds_of(const std::string& text, const char* option) {
  return std::chrono::duration<double>(parse_duration(text, option));
}

int ready_fd_of(const Raw& raw) {
  if (raw.ready_fd.empty()) return -1;
  return static_cast<int>(parse_in_range(raw.ready_fd, "--ready-fd", kReadyFdRange));
}

// Zero written with or without a unit ("0", "0s", "0ms") means "no minimum".
bool is_zero_duration(const std::string& s) {
  const size_t unit = s.find_first_not_of("0.");
  const std::string number = s.substr(0, unit), suffix = unit == std::string::npos ? "" : s.substr(unit);
  if (number.find('0') == std::string::npos || std::count(number.begin(), number.end(), '.') > 1) return false;
  for (const char* u : {"", "ns", "us", "ms", "s", "m", "h", "d"})
    if (suffix == u) return true;
  return false;
}

template <typename E, size_t N>
E one_of(const std::string& text, const char* option, const std::pair<const char*, E> (&values)[N]) {
  std::string names;
  for (const auto& [name, value] : values) {
    if (text == name) return value;
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  throw usage_error("bad " + std::string(option) + " '" + printable(text) + "': use " + names);
}

TraceOptions trace_options(const Raw& raw, bool exporter) {
  TraceOptions t;
  if (!raw.caches.empty()) t.caches = raw.caches;
  if (t.caches.size() > SLK_MAX_CACHES)
    throw usage_error("at most " + std::to_string(SLK_MAX_CACHES) + " --cache options at once");
  for (size_t i = 0; i < t.caches.size(); ++i) {
    const std::string& name = t.caches[i];
    if (name.empty()) throw usage_error("--cache needs a name, e.g. --cache kmalloc-2k");
    if (name.size() >= SLK_CACHE_NAME_LEN)
      throw usage_error("--cache '" + printable(name, 40) + "' is too long: cache names have at most " +
                        std::to_string(SLK_CACHE_NAME_LEN - 1) + " characters ('slableak caches' lists them)");
    if (!std::all_of(name.begin(), name.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; }))
      throw usage_error("--cache '" + printable(name) +
                        "' has a character no cache name has ('slableak caches' lists them)");
    if (std::find(t.caches.begin(), t.caches.begin() + static_cast<long>(i), name) != t.caches.begin() + static_cast<long>(i))
      throw usage_error("--cache '" + name + "' given twice");
  }
  t.method = one_of<CacheMethod>(raw.method, "--method", kCacheMethodNames);
  // The exporter's own defaults are in its Raw (raw_exp below).
  (void)exporter;
  t.max_tracked = parse_in_range(raw.max_tracked, "--max-tracked", kMaxTrackedRange);
  t.sample_every = static_cast<uint32_t>(parse_in_range(raw.sample_every, "--sample-every", kSampleEveryRange));
  t.max_stacks = static_cast<uint32_t>(parse_in_range(raw.max_stacks, "--max-stacks", kMaxStacksRange));
  t.max_aggregates = static_cast<uint32_t>(parse_in_range(raw.max_aggregates, "--max-aggregates", kMaxAggregatesRange));
  t.stack_idle = seconds_of(raw.stack_idle, "--stack-idle");
  if (t.stack_idle.count() <= 0) throw usage_error("--stack-idle must be longer than 0, e.g. 10m");
  t.show_addresses = raw.show_addresses;
  t.stack_cache = raw.stack_cache;
  t.by = one_of<TaskKey>(raw.by, "--by",
                         {{"none", TaskKey::none}, {"comm", TaskKey::comm}, {"pid", TaskKey::pid},
                          {"cgroup", TaskKey::cgroup}});
  t.by_limit = static_cast<uint32_t>(parse_in_range(raw.by_limit, "--by-limit", kByLimitRange));
  return t;
}

ExportConfig export_config(const Raw& raw) {
  ExportConfig e;
  e.interval = seconds_of(raw.interval, "--interval");
  e.textfile_dir = raw.textfile_dir;
  if (e.textfile_dir.empty()) throw usage_error("--textfile-dir needs a directory");
  e.textfile = !raw.no_textfile;
  e.once = raw.once;
  e.listen = raw.listen;
  std::string host;
  uint16_t port = 0;
  if (!e.listen.empty() && !split_host_port(e.listen, &host, &port))
    throw usage_error("bad --listen '" + printable(e.listen) + "': use HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464");
  // The forms the server binds (no name lookup): decided here, so that a
  // host name is a usage error before anything is opened or attached.
  in6_addr a6{};
  const bool bracketed = !e.listen.empty() && e.listen[0] == '[';  // "::1:9435" would be ambiguous to a reader
  if (!e.listen.empty() && host != "localhost" && !(!bracketed && inet_pton(AF_INET, host.c_str(), &a6) == 1) &&
      !(bracketed && inet_pton(AF_INET6, host.c_str(), &a6) == 1))
    throw usage_error("bad --listen host '" + printable(host) +
                      "': use a numeric IPv4 address, an IPv6 address in brackets or localhost, e.g. 127.0.0.1:9464");
  if (!raw.push_pprof.empty()) {
    std::string why;
    if (!parse_http_url(raw.push_pprof, &e.push_url, &why)) throw usage_error("bad --push-pprof: " + printable(why, 300));
    e.push_pprof = raw.push_pprof;
    // No name lookups in the static binary: decided here, before anything is attached.
    in6_addr a{};
    const std::string& h = e.push_url.host;
    if (h != "localhost" && inet_pton(AF_INET, h.c_str(), &a) != 1 && inet_pton(AF_INET6, h.c_str(), &a) != 1)
      throw usage_error("bad --push-pprof host '" + printable(h) +
                        "': use a numeric address such as http://127.0.0.1:4040 (the static binary does no name lookups)");
  }
  if (!raw.push_interval.empty() && raw.push_pprof.empty())
    throw usage_error("--push-interval needs --push-pprof URL (where to push)");
  e.push_interval = raw.push_interval.empty() ? e.interval : seconds_of(raw.push_interval, "--push-interval");
  if (!e.textfile && e.listen.empty() && e.push_pprof.empty())
    throw usage_error("nothing to export to: drop --no-textfile or add --listen 127.0.0.1:PORT");
  e.top_stacks = parse_in_range(raw.top_stacks, "--top-stacks", kTopStacksRange);
  e.capture_dir = raw.capture_dir;
  e.capture_keep = parse_in_range(raw.capture_keep.empty() ? kDefaultCaptureKeep : raw.capture_keep, "--capture-keep",
                                  kCaptureKeepRange);
  e.capture_max_bytes =
      parse_size(raw.capture_max_bytes.empty() ? kDefaultCaptureMaxBytes : raw.capture_max_bytes, "--capture-max-bytes");
  e.capture_on_oom = !raw.no_capture_on_oom;
  if (!raw.capture_sunreclaim.empty())
    e.capture_sunreclaim = parse_size_or_share(raw.capture_sunreclaim, "--capture-when-sunreclaim");
  if (!raw.capture_growth.empty()) e.capture_growth = parse_growth_rule(raw.capture_growth, "--capture-when-growth");
  e.capture_on_leaking = raw.capture_on_leaking;
  // A trigger or a bound without a place to write would silently do nothing.
  const bool triggers = raw.capture_sunreclaim.size() || raw.capture_growth.size() || raw.capture_on_leaking;
  if (e.capture_dir.empty() && triggers)
    throw usage_error("the capture triggers need --capture-dir DIR (where captures are written)");
  if (e.capture_dir.empty() && (raw.capture_keep.size() || raw.capture_max_bytes.size() || raw.no_capture_on_oom))
    throw usage_error(std::string(raw.capture_keep.size()       ? "--capture-keep"
                                  : raw.capture_max_bytes.size() ? "--capture-max-bytes"
                                                                 : "--no-capture-on-oom") +
                      " needs --capture-dir DIR (where captures are written)");
  return e;
}

ReportConfig report_config(const Raw& raw, bool snapshot, bool top) {
  ReportConfig r;
  if (snapshot) r.duration = seconds_of(raw.duration, "--duration");
  if (top) r.interval = seconds_of(raw.interval, "--interval");
  r.min_age = is_zero_duration(raw.min_age) ? std::chrono::duration<double>(0) : seconds_of(raw.min_age, "--min-age");
  r.top = parse_in_range(raw.top, "--top", kTopRange);
  r.format = one_of<Format>(raw.format, "--format",
                            {{"table", Format::table}, {"json", Format::json}, {"folded", Format::folded},
                             {"svg", Format::svg}, {"html", Format::html}, {"pprof", Format::pprof}});
  r.sort = one_of<SortKey>(raw.sort, "--sort",
                           {{"verdict", SortKey::verdict}, {"bytes", SortKey::bytes}, {"objects", SortKey::objects}, {"age", SortKey::age},
                            {"growth", SortKey::growth}});
  return r;
}

void add_export_options(CLI::App* exp, Raw& raw) {
  exp->add_option("-i,--interval", raw.interval, "collection and write interval")->capture_default_str();
  exp->add_option("--textfile-dir", raw.textfile_dir,
                  "node_exporter textfile directory (slableak.prom is written there)")
      ->capture_default_str();
  exp->add_flag("--no-textfile", raw.no_textfile, "do not write the textfile (with --listen or --push-pprof)");
  exp->add_flag("--once", raw.once, "collect for one interval, write, and exit");
  exp->add_option("--listen", raw.listen,
                  "also serve GET /metrics on HOST:PORT (127.0.0.1:PORT is the sane choice)");
  exp->add_option("--push-pprof", raw.push_pprof,
                  "also push the held set as a pprof profile to Pyroscope's ingest API at URL (http://HOST:PORT)");
  exp->add_option("--push-interval", raw.push_interval,
                  "how often to push (default: the --interval); rounded up to whole intervals");
  exp->add_option("--top-stacks", raw.top_stacks,
                  "stacks per cache with their own series; the rest sum into \"other\"")
      ->capture_default_str();
  exp->add_option("--capture-dir", raw.capture_dir,
                  "write a capture (report, flame graph, meminfo, slabinfo) there when a trigger fires; "
                  "SIGUSR1 captures now");
  exp->add_option("--capture-keep", raw.capture_keep, "captures kept at most (the oldest go first)")
      ->default_str(kDefaultCaptureKeep);
  exp->add_option("--capture-max-bytes", raw.capture_max_bytes, "bytes of captures kept at most (the oldest go first)")
      ->default_str(kDefaultCaptureMaxBytes);
  exp->add_flag("--no-capture-on-oom", raw.no_capture_on_oom, "do not capture when the OOM killer picks a victim");
  exp->add_option("--capture-when-sunreclaim", raw.capture_sunreclaim,
                  "capture when SUnreclaim reaches a share of MemTotal (30%) or a size (4G)");
  exp->add_option("--capture-when-growth", raw.capture_growth,
                  "capture when SUnreclaim grew by BYTES within WINDOW (512M/10m)");
  exp->add_flag("--capture-on-leaking", raw.capture_on_leaking, "capture when a stack is first judged leaking");

}

// CLI11's message, on one line and safe to print.
std::string one_line(const std::string& msg) {
  std::string out;
  for (char c : msg) out += (c == '\n' || c == '\r') ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return printable(out, 200);
}

// "; did you mean --max-stacks?" for the first option the command does not
// have, when one of its options is close; "" otherwise.
std::string closest_option(const CLI::App& app, int argc, const char* const* argv) {
  const CLI::App* cmd = nullptr;
  for (const CLI::App* sub : app.get_subcommands({}))
    if (argc > 1 && sub->get_name() == argv[1]) cmd = sub;
  if (!cmd) return "";
  std::vector<std::string> names;
  for (const CLI::Option* o : cmd->get_options()) {
    for (const auto& n : o->get_lnames()) names.push_back("--" + n);
    for (const auto& n : o->get_snames()) names.push_back("-" + n);
  }
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-' || (arg[1] >= '0' && arg[1] <= '9')) continue;
    arg = arg.substr(0, arg.find('='));
    if (std::find(names.begin(), names.end(), arg) != names.end()) continue;
    std::vector<std::string> longs;
    for (const auto& n : names)
      if (n.size() > 2) longs.push_back(n);
    const auto close = similar_names(arg, longs, 1);
    return close.empty() ? "" : "; did you mean " + close.front() + "?";
  }
  return "";
}

// Every option of every command as @app defines it, with what the tables
// below say the parser enforces, and the exit codes (base/error.h).
std::string options_json(const CLI::App& app) {
  using nlohmann::json;
  json commands = json::object();
  for (const CLI::App* sub : app.get_subcommands({})) {
    json opts = json::array();
    for (const CLI::Option* o : sub->get_options()) {
      json names = json::array();
      for (const auto& n : o->get_snames()) names.push_back("-" + n);
      for (const auto& n : o->get_lnames()) names.push_back("--" + n);
      if (names.empty()) continue;  // a positional argument
      const std::string long_name = o->get_lnames().empty() ? "" : "--" + o->get_lnames().front();
      json j = {{"names", names}, {"flag", o->get_expected_min() == 0}, {"default", o->get_default_str()},
                {"description", o->get_description()}};
      for (const auto& l : option_limits())
        if (long_name == l.name) {
          j["kind"] = l.kind == OptionLimit::count ? "count" : l.kind == OptionLimit::duration ? "duration" : "duration_or_zero";
          j["min"] = l.range.min;
          j["max"] = l.range.max;
        }
      // "CMD --option" (one command's own words) before "--option".
      for (const auto& [name, choices] : option_choices())
        if (long_name == name && !j.contains("choices")) j["choices"] = choices;
      for (const auto& [name, choices] : option_choices())
        if (sub->get_name() + " " + long_name == name) j["choices"] = choices;
      if (long_name == "--cache") {
        j["max_count"] = SLK_MAX_CACHES;
        j["max_name_length"] = SLK_CACHE_NAME_LEN - 1;
      }
      opts.push_back(j);
    }
    commands[sub->get_name()] = opts;
  }
  json exits = json::array();
#define SLK_EXIT_JSON(name, value) exits.push_back({{"code", static_cast<int>(Exit::name)}, {"name", #name}});
  SLK_EXIT_CODES(SLK_EXIT_JSON)
#undef SLK_EXIT_JSON
  return json{{"commands", commands}, {"exit_codes", exits}}.dump(1) + "\n";
}

}  // namespace

const std::vector<OptionLimit>& option_limits() {
  constexpr uint64_t kYear = 365 * 86400;  // parse_duration's upper bound
  static const std::vector<OptionLimit> limits = {
      {"--max-tracked", OptionLimit::count, kMaxTrackedRange},
      {"--sample-every", OptionLimit::count, kSampleEveryRange},
      {"--max-stacks", OptionLimit::count, kMaxStacksRange},
      {"--max-aggregates", OptionLimit::count, kMaxAggregatesRange},
      {"--top", OptionLimit::count, kTopRange},
      {"--top-stacks", OptionLimit::count, kTopStacksRange},
      {"--capture-keep", OptionLimit::count, kCaptureKeepRange},
      {"--by-limit", OptionLimit::count, kByLimitRange},
      {"--ready-fd", OptionLimit::count, kReadyFdRange},
      {"--max-caches", OptionLimit::count, kTriageMaxCachesRange},
      {"--duration", OptionLimit::duration, {0, kYear}},
      {"--interval", OptionLimit::duration, {0, kYear}},
      {"--push-interval", OptionLimit::duration, {0, kYear}},
      {"--window", OptionLimit::duration, {0, kYear}},
      {"--stack-idle", OptionLimit::duration, {0, kYear}},
      {"--min-age", OptionLimit::duration_or_zero, {0, kYear}},
      {"--settle", OptionLimit::duration_or_zero, {0, kYear}},
  };
  return limits;
}

const std::vector<std::pair<std::string, std::vector<std::string>>>& option_choices() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> choices = {
      {"--method", {"auto", "kfunc", "slab", "derived"}},
      {"--format", {"table", "json", "folded", "svg", "html", "pprof"}},
      {"diff --format", {"table", "json"}},
      {"--by", {"none", "comm", "pid", "cgroup"}},
      {"--sort", {"verdict", "bytes", "objects", "age", "growth"}},
  };
  return choices;
}

ParseResult parse_run_config(int argc, const char* const* argv) {
  CLI::App app{"slableak: which kernel code paths hold slab memory (kmalloc-2k by default)"};
  app.set_version_flag("--version", std::string("slableak ") + SLABLEAK_VERSION);
  app.require_subcommand(1);

  Raw raw;
  auto* snap = app.add_subcommand("snapshot", "trace for a while, print one report and exit");
  add_trace_options(snap, raw);
  snap->add_option("-d,--duration", raw.duration, "how long to trace")->capture_default_str();
  snap->add_option("--min-age", raw.min_age, "count only objects at least this old")->capture_default_str();
  snap->add_option("--top", raw.top, "stacks shown (0 = all)")->capture_default_str();
  snap->add_option("-f,--format", raw.format, "table, json, folded, svg (flame graph), html (page) or pprof (gzipped profile)")->capture_default_str();
  snap->add_option("--sort", raw.sort, "verdict (leaking first, then bytes), bytes, objects, age or growth")->capture_default_str();

  auto* top = app.add_subcommand("top", "live view of the stacks holding the most bytes, until Ctrl-C");
  add_trace_options(top, raw);
  raw.interval = "2s";
  top->add_option("-i,--interval", raw.interval, "refresh interval")->capture_default_str();
  top->add_option("--top", raw.top, "stacks shown (0 = all)")->capture_default_str();
  top->add_option("--sort", raw.sort, "verdict (leaking first, then bytes), bytes, objects, age or growth")->capture_default_str();
  top->add_option("--min-age", raw.min_age, "count only objects at least this old")->capture_default_str();

  // The exporter has its own defaults (sampled, smaller live map); a
  // separate Raw keeps --help showing them.
  Raw raw_exp;
  raw_exp.interval = "15s";
  raw_exp.sample_every = std::to_string(kExportSampleEvery);
  raw_exp.max_tracked = std::to_string(kExportMaxTracked);
  auto* exp = app.add_subcommand("export", "write Prometheus metrics every interval until stopped");
  add_trace_options(exp, raw_exp);
  add_export_options(exp, raw_exp);

  auto* tri = app.add_subcommand("triage",
                                  "watch /proc/slabinfo, pick the caches whose growth explains unreclaimable slab "
                                  "growth, follow them and report");
  add_trace_options(tri, raw);
  tri->remove_option(tri->get_option("--cache"));  // triage picks the caches
  std::string window = "10s", max_caches = "3";
  tri->add_option("-w,--window", window, "how long to watch /proc/slabinfo before picking")->capture_default_str();
  tri->add_option("--max-caches", max_caches, "caches followed at most")->capture_default_str();
  tri->add_option("-d,--duration", raw.duration, "how long to follow the picked caches")->capture_default_str();
  tri->add_option("--top", raw.top, "stacks shown per cache (0 = all)")->capture_default_str();
  tri->add_option("-f,--format", raw.format, "table, json, folded or pprof")->capture_default_str();
  tri->add_option("--sort", raw.sort, "verdict (leaking first, then bytes), bytes, objects, age or growth")->capture_default_str();

  auto* run = app.add_subcommand("run", "start COMMAND, trace while it runs and --settle after, report what it "
                                        "allocated and still holds: slableak run [options] -- COMMAND [ARGS]");
  add_trace_options(run, raw);
  std::string settle = "1s";
  bool only_command = false;
  std::vector<std::string> command;
  run->add_option("--settle", settle, "keep tracing this long after COMMAND exits (deferred frees)")
      ->capture_default_str();
  run->add_flag("--only-command", only_command, "count only allocations made by COMMAND and its child processes");
  run->add_option("--min-age", raw.min_age, "count only objects at least this old")->capture_default_str();
  run->add_option("--top", raw.top, "stacks shown (0 = all)")->capture_default_str();
  run->add_option("-f,--format", raw.format, "table, json, folded or pprof")->capture_default_str();
  run->add_option("--sort", raw.sort, "verdict (leaking first, then bytes), bytes, objects, age or growth")
      ->capture_default_str();
  run->add_option("command", command, "COMMAND [ARGS], after --");

  auto* diff = app.add_subcommand("diff", "compare two JSON reports: which stacks appeared, disappeared, grew or "
                                          "shrank: slableak diff BEFORE.json AFTER.json (no root)");
  std::vector<std::string> diff_files;
  std::string diff_format = "table", diff_top = "20";
  diff->add_option("-f,--format", diff_format, "table or json")->capture_default_str();
  diff->add_option("--top", diff_top, "changed stacks shown (0 = all)")->capture_default_str();
  diff->add_option("files", diff_files, "BEFORE.json AFTER.json (reports of --format json)");

  auto* caps = app.add_subcommand("captures", "list the flight recorder's captures in DIR (default "
                                              "/var/lib/slableak/captures): time, trigger, top stack (no BPF)");
  std::string captures_dir;
  caps->add_option("dir", captures_dir, "the directory given to export --capture-dir");

  auto* caches = app.add_subcommand("caches", "list slab caches from /proc/slabinfo (no BPF)");
  auto* check = app.add_subcommand("check", "load, attach and detach once: a deployment self-test");
  add_trace_options(check, raw);

  if (argc == 2 && std::string(argv[1]) == "--dump-options-json") return {std::nullopt, options_json(app), 0};
  const auto is_command = [&](const std::string& name) {
    for (const auto* sub : app.get_subcommands({}))
      if (sub->get_name() == name) return true;
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !is_command(argv[1]))
    throw usage_error("unknown command '" + printable(argv[1]) + "': use snapshot, top, run, diff, export, captures, triage, caches or check");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return {std::nullopt, app.help(), 0};
  } catch (const CLI::CallForAllHelp&) {
    return {std::nullopt, app.help("", CLI::AppFormatMode::All), 0};
  } catch (const CLI::CallForVersion&) {
    return {std::nullopt, std::string("slableak ") + SLABLEAK_VERSION + "\n", 0};
  } catch (const CLI::ParseError& e) {
    // Help of a subcommand arrives as CallForHelp from that subcommand.
    throw usage_error(one_line(e.what()) + closest_option(app, argc, argv) + " (see 'slableak --help')");
  }

  RunConfig c;
  if (*exp) {
    c.command = Command::export_metrics;
    c.trace = trace_options(raw_exp, true);
    c.ready_fd = ready_fd_of(raw_exp);
    // Metrics and the 0644 textfile are readable by every local user, who
    // sees zeros in /proc/kallsyms: a raw kernel address there defeats KASLR.
    if (c.trace.show_addresses)
      throw usage_error("--show-addresses is for the terminal (snapshot, top, run, triage); export never "
                        "publishes kernel addresses: drop it");
    c.exporter = export_config(raw_exp);
    // Growth is fitted over several intervals so one refresh does not swing it.
    c.trace.growth_window = std::chrono::duration<double>(std::max(300.0, 4 * c.exporter.interval.count()));
    return {c, {}, 0};
  }
  if (*diff) {
    c.command = Command::diff;
    if (diff_files.size() != 2)
      throw usage_error("diff needs two reports: slableak diff BEFORE.json AFTER.json (each from 'slableak snapshot "
                        "--format json')");
    c.diff.before = diff_files[0];
    c.diff.after = diff_files[1];
    c.diff.format = one_of<Format>(diff_format, "--format", {{"table", Format::table}, {"json", Format::json}});
    c.diff.top = parse_in_range(diff_top, "--top", kTopRange);
    return {c, {}, 0};
  }
  if (*caps) {
    c.command = Command::captures;
    if (!captures_dir.empty()) c.captures.dir = captures_dir;
    return {c, {}, 0};
  }
  if (*caches) {
    c.command = Command::caches;
    return {c, {}, 0};
  }
  if (*run) {
    c.command = Command::run;
    if (command.empty()) throw usage_error("run needs a command: slableak run [options] -- COMMAND [ARGS]");
    c.run.argv = command;
    c.run.settle = is_zero_duration(settle) ? std::chrono::duration<double>(0) : seconds_of(settle, "--settle");
    c.trace = trace_options(raw, false);
    c.ready_fd = ready_fd_of(raw);
    c.trace.filter_tasks = only_command;
    c.report = report_config(raw, false, false);
    c.trace.growth_window = std::chrono::duration<double>(300);
    return {c, {}, 0};
  }
  if (*tri) {
    c.command = Command::triage;
    c.triage.window = seconds_of(window, "--window");
    c.triage.max_caches = parse_in_range(max_caches, "--max-caches", kTriageMaxCachesRange);
    c.trace = trace_options(raw, false);
    c.ready_fd = ready_fd_of(raw);
    c.report = report_config(raw, true, false);
    c.trace.growth_window = std::chrono::duration<double>(std::max(60.0, c.report.duration.count()));
    return {c, {}, 0};
  }
  c.command = *snap ? Command::snapshot : *top ? Command::top : Command::check;
  c.trace = trace_options(raw, false);
  c.ready_fd = ready_fd_of(raw);
  c.report = report_config(raw, snap->parsed(), top->parsed());
  c.trace.growth_window = std::chrono::duration<double>(std::max(60.0, c.report.duration.count()));
  if (*snap) c.trace.run_length = c.report.duration;
  return {c, {}, 0};
}

}  // namespace slableak
