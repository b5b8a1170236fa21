// refresh_bench: userspace CPU and memory of one exporter refresh with many
// distinct kernel stacks, without needing the kernel to produce them.
//
// A real refresh is: read the BPF maps (KernelRead), symbolize stacks not
// seen before, Aggregator::ingest, sort_stacks, render_prometheus. This
// program builds a synthetic KernelRead with --stacks distinct stack ids x
// --epochs allocation epochs, whose frames are random real text addresses of
// this kernel (/proc/kallsyms, needs root to see addresses), and runs the
// same pipeline the daemon runs (session.cpp + cmd_export.cpp) once per
// simulated interval. The aggregate rows sit in a real kernel hash map read
// with the daemon's batched reader (agg_map_reader.h); the stack frames are
// handed over directly (a stack-trace map cannot be filled from userspace),
// which only the first refresh needs: later ones fetch no frames.
//
//   refresh_bench [--stacks N] [--epochs E] [--depth D] [--refreshes R]
//                 [--interval SECONDS] [--sample-every N] [--kallsyms PATH]
//                 [--seed S] [--no-kernel-map]
//
// Prints "key value" lines (parsed by scripts/slk-lab bench).
#include <bpf/bpf.h>
#include <sys/resource.h>
#include <unistd.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "agg_map_reader.h"
#include "aggregation.h"
#include "kallsyms.h"
#include "kernel_read.h"
#include "prometheus_text.h"
#include "snapshot.h"
#include "symbolizer.h"

using namespace slableak;

namespace {

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double wall_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

long status_kib(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(f, line))
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') return std::atol(line.c_str() + n + 1);
  return -1;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

[[noreturn]] void usage() {
  std::cerr << "usage: refresh_bench [--stacks N] [--epochs E] [--depth D] [--refreshes R]\n"
               "                     [--interval SECONDS] [--sample-every N] [--kallsyms PATH] [--seed S]\n"
               "                     [--no-kernel-map]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t n_stacks = 10000, n_epochs = 4, depth = 16, refreshes = 40, sample_every = 64;
  double interval_s = 15;
  std::string kallsyms_path = "/proc/kallsyms";
  uint64_t seed = 1;
  bool no_kernel_map = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--no-kernel-map") {
      no_kernel_map = true;
      continue;
    }
    if (i + 1 >= argc) usage();
    const char* v = argv[++i];
    if (a == "--stacks") n_stacks = static_cast<uint32_t>(std::atol(v));
    else if (a == "--epochs") n_epochs = static_cast<uint32_t>(std::atol(v));
    else if (a == "--depth") depth = static_cast<uint32_t>(std::atol(v));
    else if (a == "--refreshes") refreshes = static_cast<uint32_t>(std::atol(v));
    else if (a == "--interval") interval_s = std::atof(v);
    else if (a == "--sample-every") sample_every = static_cast<uint32_t>(std::atol(v));
    else if (a == "--kallsyms") kallsyms_path = v;
    else if (a == "--seed") seed = std::strtoull(v, nullptr, 10);
    else usage();
  }
  if (n_stacks == 0 || n_epochs == 0 || depth == 0 || depth > SLK_MAX_STACK_DEPTH || refreshes == 0 ||
      interval_s <= 0 || sample_every == 0)
    usage();

  const long rss_start = status_kib("VmRSS");

  // kallsyms: parsed once, while it is read in 64 KiB pieces, as the daemon
  // does at start (read_kallsyms in proc_files.cpp); the whole text is
  // never held. Frames are drawn from the core kernel's text symbols
  // (modules skipped: their text is sparse and the daemon's stacks are
  // mostly core kernel anyway).
  double parse_ms = 0;  // the parser's share: the kernel's time to produce the text is not in it
  Kallsyms::Builder builder;
  {
    std::ifstream f(kallsyms_path, std::ios::binary);
    std::vector<char> buf(65536);
    while (f.read(buf.data(), static_cast<std::streamsize>(buf.size())) || f.gcount() > 0) {
      const double t0 = cpu_ms();
      builder.feed(std::string_view(buf.data(), static_cast<size_t>(f.gcount())));
      parse_ms += cpu_ms() - t0;
    }
  }
  const double t0 = cpu_ms();
  Kallsyms syms = builder.finish();
  parse_ms += cpu_ms() - t0;
  const size_t kallsyms_bytes = syms.memory_bytes();
  const std::vector<uint64_t> text_addrs = syms.core_addresses();
  if (syms.addresses_hidden() || text_addrs.size() < 1000) {
    std::cerr << "refresh_bench: " << kallsyms_path << " shows " << text_addrs.size()
              << " text addresses (run as root, kptr_restrict <= 1)\n";
    return 1;
  }
  Symbolizer symbolizer(std::move(syms), false);
  const long rss_kallsyms = status_kib("VmRSS");

  // The synthetic kernel read: n_stacks x n_epochs aggregate rows. The
  // oldest epoch of every fourth stack has nothing outstanding, so it is
  // retired on the first refresh (and then dropped from the "kernel map"),
  // as session.cpp does with the real map.
  std::mt19937_64 rng(seed);
  KernelRead read;
  const uint32_t shift = 34;  // ~17 s epochs: what epoch_shift_for() gives after ~9 min
  read.now_ns = 3600ull * 1000000000ull;
  const uint64_t cur_epoch = read.now_ns >> shift;
  // Sized as read_aggregate_map (agg_map_reader.cpp) sizes it from the
  // previous read: an eighth more than the rows it had.
  const size_t rows = static_cast<size_t>(n_stacks) * n_epochs;
  read.aggs.reserve(rows + rows / 8 + 16);
  for (uint32_t s = 0; s < n_stacks; ++s) {
    const uint32_t id = 1000 + s * 7;  // sparse ids, like stack-map buckets
    std::vector<uint64_t> ips(SLK_MAX_STACK_DEPTH, 0);
    const uint32_t d = depth / 2 + static_cast<uint32_t>(rng() % (depth / 2 + 1));
    for (uint32_t f = 0; f < d; ++f)
      ips[f] = text_addrs[rng() % text_addrs.size()] + 1 + rng() % 64;  // return address inside the function
    read.stacks.emplace(id, std::move(ips));
    for (uint32_t e = 0; e < n_epochs; ++e) {
      AggRow row{};
      row.key.epoch = cur_epoch - e;
      row.key.stack_id = id;
      row.key.cache_idx = 0;
      row.key.epoch_shift = static_cast<uint8_t>(shift);
      const bool retired = (s % 4 == 0) && e + 1 == n_epochs && n_epochs > 2;
      row.val.objects = retired ? 0 : static_cast<int64_t>(1 + rng() % 500);
      row.val.bytes = row.val.objects * 2048;
      row.val.allocs = static_cast<uint64_t>(row.val.objects) + rng() % 1000;
      row.val.frees = row.val.allocs - static_cast<uint64_t>(row.val.objects);
      read.aggs.push_back(row);
    }
  }
  read.counters[TracerCounter::allocs_selected] = read.counters[TracerCounter::allocs_tracked] = 123456;
  for (const auto& kv : read.stacks) read.stored_stacks.push_back(kv.first);

  // The aggregate rows also live in a real kernel hash map of the daemon's
  // layout and capacity (65,536 by default), read back every refresh with
  // the daemon's batched reader: the syscall side of a refresh is timed too.
  // Without BPF (not root) the rows are copied instead, and the output says so.
  // Without a kernel map, `truth` stands in for it (with one, the rows read
  // back are edited and written back: the bench holds one copy, as the
  // daemon does during a refresh).
  std::vector<AggRow> truth;
  const uint32_t map_capacity = std::max<uint32_t>(65536, static_cast<uint32_t>(truth.size()));
  int map_fd = no_kernel_map ? -1
                             : bpf_map_create(BPF_MAP_TYPE_HASH, "slk_bench_aggs", sizeof(slk_agg_key),
                                              sizeof(slk_agg_val), map_capacity, nullptr);
  if (map_fd < 0 && !no_kernel_map)
    std::cerr << "refresh_bench: cannot create a BPF hash map (" << std::strerror(errno)
              << "): aggregate rows are copied, not read from the kernel\n";
  auto sync_map = [&](const std::vector<slk_agg_key>& gone) {
    if (map_fd < 0) return;
    for (const auto& k : gone) bpf_map_delete_elem(map_fd, &k);
    for (const auto& row : read.aggs) bpf_map_update_elem(map_fd, &row.key, &row.val, BPF_ANY);
  };
  if (map_fd < 0) truth = std::move(read.aggs);
  sync_map({});

  Aggregator agg({"kmalloc-2k"}, sample_every, std::max(300.0, 4 * interval_s));
  ExpositionInfo info;  // exporter defaults (top 20 stacks per cache)
  info.version = "bench";
  info.kernel = "bench";
  static const SymbolizedStack missing{{"[stack missing]"}, {"[stack missing]"}};

  std::vector<double> cpu, wall;
  double first_cpu = 0, first_wall = 0;
  size_t prom_bytes = 0, n_report = 0, retired_total = 0;
  long rss_first = 0, rss_read = status_kib("VmRSS");
  for (uint32_t r = 0; r < refreshes; ++r) {
    // BpfTracer::read fetches frames only for stack ids the symbolizer has
    // not seen (session.cpp): after the first refresh, none here.
    std::erase_if(read.stacks, [&](const auto& kv) { return symbolizer.cached(kv.first) != nullptr; });
    const double c0 = cpu_ms(), w0 = wall_ms();
    // == Session::collect: the aggregate map read, then the pure pipeline ==
    if (map_fd >= 0) read.aggs = read_aggregate_map(map_fd, map_capacity, read.aggs.size());
    else read.aggs = truth;
    auto resolve = [&](uint32_t id) -> const SymbolizedStack& {
      if (const SymbolizedStack* known = symbolizer.cached(id)) return *known;
      auto it = read.stacks.find(id);
      if (it == read.stacks.end()) return missing;
      return symbolizer.symbolize(id, it->second);
    };
    std::vector<slk_agg_key> retire;
    Snapshot s;
    s.stacks = agg.ingest(read, resolve, &retire, 0);
    s.elapsed_s = static_cast<double>(read.now_ns) / 1e9;
    s.unix_time = 1.7e9 + s.elapsed_s;
    s.method = "kfunc";
    s.sample_every = sample_every;
    CacheHeader h;
    h.name = "kmalloc-2k";
    h.object_size = 2048;
    h.in_slabinfo = true;
    h.attributed_objects = agg.cache_totals()[0].first;
    h.attributed_bytes = agg.cache_totals()[0].second;
    s.caches.push_back(h);
    s.health.agg_entries = read.aggs.size() - retire.size();
    s.health.stack_entries = read.stored_stacks.size();
    // == cmd_export: render (plus the sort a snapshot/top report does) ==
    sort_stacks(s.stacks, SortKey::bytes);
    info.last_update_unix = s.unix_time;
    const std::string prom = render_prometheus(s, info);
    const double c1 = cpu_ms(), w1 = wall_ms();

    prom_bytes = prom.size();
    n_report = s.stacks.size();
    if (r == 0) {
      rss_first = status_kib("VmRSS");
      first_cpu = c1 - c0;
      first_wall = w1 - w0;
    } else {
      cpu.push_back(c1 - c0);
      wall.push_back(w1 - w0);
    }
    // The kernel side between refreshes: retired keys deleted, time moves
    // on, some stacks grow a little.
    std::vector<AggRow>& rows = map_fd >= 0 ? read.aggs : truth;
    if (!retire.empty()) {
      retired_total += retire.size();
      std::erase_if(rows, [](const AggRow& row) { return row.val.objects == 0; });
    }
    read.now_ns += static_cast<uint64_t>(interval_s * 1e9);
    // Hash order, not creation order, when read from the map: every third
    // row is still a stable third of the stacks, as the rows keep their
    // order in the map between refreshes.
    for (size_t i = 0; i < rows.size(); i += 3) {
      rows[i].val.objects += 1;
      rows[i].val.bytes += 2048;
      rows[i].val.allocs += 1;
    }
    sync_map(retire);
  }
  if (map_fd >= 0) close(map_fd);

  const double steady = percentile(cpu, 0.5);
  std::printf("stacks %u\n", n_stacks);
  std::printf("agg_rows %zu\n", static_cast<size_t>(n_stacks) * n_epochs);
  std::printf("retired_rows %zu\n", retired_total);
  std::printf("report_stacks %zu\n", n_report);
  std::printf("refreshes %u\n", refreshes);
  std::printf("agg_rows_from_kernel_map %d\n", map_fd >= 0 ? 1 : 0);
  std::printf("kallsyms_text_symbols %zu\n", text_addrs.size());
  std::printf("kallsyms_parse_cpu_ms %.1f\n", parse_ms);
  std::printf("kallsyms_table_bytes %zu\n", kallsyms_bytes);
  std::printf("first_refresh_cpu_ms %.1f\n", first_cpu);
  std::printf("first_refresh_wall_ms %.1f\n", first_wall);
  std::printf("refresh_cpu_ms_median %.2f\n", steady);
  std::printf("refresh_cpu_ms_p90 %.2f\n", percentile(cpu, 0.9));
  std::printf("refresh_cpu_ms_max %.2f\n", percentile(cpu, 1.0));
  std::printf("refresh_wall_ms_median %.2f\n", percentile(wall, 0.5));
  std::printf("cpu_percent_at_interval %.3f\n", steady / (interval_s * 1e3) * 100);
  std::printf("interval_s %.0f\n", interval_s);
  std::printf("prom_bytes %zu\n", prom_bytes);
  std::printf("rss_start_kib %ld\n", rss_start);
  std::printf("rss_after_kallsyms_kib %ld\n", rss_kallsyms);
  std::printf("rss_after_synthetic_read_kib %ld\n", rss_read);
  std::printf("rss_after_first_refresh_kib %ld\n", rss_first);
  std::printf("rss_end_kib %ld\n", status_kib("VmRSS"));
  std::printf("peak_rss_kib %ld\n", status_kib("VmHWM"));
  return 0;
}
