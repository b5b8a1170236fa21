// Argument parsing and the one place where errors become exit codes.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"
#include "error.h"
#include "signals.h"
#include "units.h"
#include "version.h"

using namespace slableak;

namespace {

// Exporter defaults, chosen from the benchmark (docs/performance.md): the
// exporter runs for weeks, so it samples and keeps a smaller live map.
constexpr uint32_t kExportDefaultSampleEvery = 64;
constexpr uint64_t kExportDefaultMaxTracked = 262144;

struct Raw {
  std::string duration = "30s", min_age = "0s", interval = "2s", max_tracked = "1M";
  bool min_age_set = false;
};

void add_session_options(CLI::App* cmd, SessionOptions& so, Raw& raw) {
  cmd->add_option("-c,--cache", so.caches, "slab cache to follow (repeatable)")->capture_default_str();
  cmd->add_option("--max-tracked", raw.max_tracked, "live objects tracked at most (kernel map size)")
      ->capture_default_str();
  cmd->add_option("--sample-every", so.sample_every, "track one in N allocations; counts are scaled by N")
      ->capture_default_str();
  cmd->add_option("--max-stacks", so.max_stacks, "distinct kernel stacks kept")->capture_default_str();
  cmd->add_option("--max-aggregates", so.max_aggregates, "(stack, cache, epoch) summaries kept")
      ->capture_default_str();
  cmd->add_option("--method", so.method, "how the cache of an object is named: auto, kfunc, derived")
      ->capture_default_str();
  cmd->add_flag("--show-addresses", so.show_addresses, "print raw kernel addresses too (defeats KASLR)");
  cmd->add_flag("!--no-stack-cache", so.stack_cache,
                "unwind every tracked allocation instead of reusing verified stack fingerprints");
  // Benchmark floor: programs that return at once, to measure dispatch cost.
  cmd->add_flag("--bench-floor", so.bench_floor, "")->group("");
  cmd->add_flag("--bench-floor-alloc", so.bench_floor_alloc, "")->group("");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"slableak: which kernel code paths hold slab memory (kmalloc-2k by default)"};
  app.set_version_flag("--version", std::string("slableak ") + SLABLEAK_VERSION);
  app.require_subcommand(1);

  SessionOptions so;
  ReportOptions ro;
  Raw raw;

  auto* snap = app.add_subcommand("snapshot", "trace for a while, print one report and exit");
  add_session_options(snap, so, raw);
  snap->add_option("-d,--duration", raw.duration, "how long to trace")->capture_default_str();
  snap->add_option("--min-age", raw.min_age, "count only objects at least this old")->capture_default_str();
  snap->add_option("--top", ro.top, "stacks shown (0 = all)")->capture_default_str();
  snap->add_option("-f,--format", ro.format, "table, json or folded")->capture_default_str();
  snap->add_option("--sort", ro.sort, "bytes, objects, age or growth")->capture_default_str();

  auto* top = app.add_subcommand("top", "live view of the stacks holding the most bytes, until Ctrl-C");
  add_session_options(top, so, raw);
  top->add_option("-i,--interval", raw.interval, "refresh interval")->capture_default_str();
  top->add_option("--top", ro.top, "stacks shown")->capture_default_str();
  top->add_option("--sort", ro.sort, "bytes, objects, age or growth")->capture_default_str();
  top->add_option("--min-age", raw.min_age, "count only objects at least this old")->capture_default_str();

  ExportOptions eo;
  std::string export_interval = "15s";
  auto* exp = app.add_subcommand("export", "write Prometheus metrics every interval until stopped");
  // The exporter has its own defaults (sampled, smaller live map), shown as
  // such in its --help.
  SessionOptions so_exp;
  so_exp.sample_every = kExportDefaultSampleEvery;
  Raw raw_exp;
  raw_exp.max_tracked = std::to_string(kExportDefaultMaxTracked);
  add_session_options(exp, so_exp, raw_exp);
  exp->add_option("-i,--interval", export_interval, "collection and write interval")->capture_default_str();
  exp->add_option("--textfile-dir", eo.textfile_dir, "node_exporter textfile directory (slableak.prom is written there)")
      ->capture_default_str();
  exp->add_flag("--no-textfile", eo.no_textfile, "do not write the textfile (use with --listen)");
  exp->add_flag("--once", eo.once, "collect for one interval, write, and exit");
  exp->add_option("--listen", eo.listen, "also serve GET /metrics on HOST:PORT (127.0.0.1:PORT is the sane choice)");
  exp->add_option("--top-stacks", eo.top_stacks, "stacks per cache with their own series; the rest sum into \"other\"")
      ->capture_default_str();

  auto* caches = app.add_subcommand("caches", "list slab caches from /proc/slabinfo (no BPF)");

  auto* check = app.add_subcommand("check", "load, attach and detach once: a deployment self-test");
  add_session_options(check, so, raw);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    install_stop_handlers();
    so.max_tracked = parse_count(raw.max_tracked, "--max-tracked");
    ro.duration_s = std::chrono::duration<double>(parse_duration(raw.duration, "--duration")).count();
    ro.interval_s = std::chrono::duration<double>(parse_duration(raw.interval, "--interval")).count();
    ro.min_age_s = raw.min_age == "0" || raw.min_age == "0s"
                       ? 0
                       : std::chrono::duration<double>(parse_duration(raw.min_age, "--min-age")).count();
    so.growth_window_s = std::max(60.0, ro.duration_s);
    if (*exp) {
      eo.interval_s = std::chrono::duration<double>(parse_duration(export_interval, "--interval")).count();
      so_exp.max_tracked = parse_count(raw_exp.max_tracked, "--max-tracked");
      // Growth is fitted over several intervals so one refresh does not swing it.
      so_exp.growth_window_s = std::max(300.0, 4 * eo.interval_s);
      return run_export(so_exp, eo);
    }
    if (*snap) return run_snapshot(so, ro);
    if (*top) return run_top(so, ro);
    if (*caches) return run_caches();
    if (*check) return run_check(so);
  } catch (const Error& e) {
    std::cerr << "slableak: " << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "slableak: " << e.what() << "\n";
    return static_cast<int>(Exit::runtime);
  }
  return 0;
}
