#include "live_session.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "bpf_dispatcher.h"
#include "bpf_tracer.h"
#include "cache_selection.h"
#include "error.h"
#include "kernel_features.h"
#include "proc_files.h"
#include "signals.h"
#include "slab_sysfs.h"
#include "target_arch.h"
#include "units.h"

namespace slableak {
namespace {

double clock_seconds(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

uint64_t mem_total_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  while (in >> key) {
    if (key == "MemTotal:" && in >> kib) return kib * 1024;
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

}  // namespace

void check_ready_fd(int fd) {
  if (fd < 0) return;
  const int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
    throw usage_error("--ready-fd " + std::to_string(fd) +
                      " is not a descriptor open for writing: open one for slableak, e.g. " + std::to_string(fd) +
                      ">ready.json");
}

void announce_ready(int fd, const Session& session, const std::vector<std::string>& caches) {
  if (fd < 0) return;
  const auto quoted = [](const std::string& v) {
    std::string q = "\"";
    for (const char ch : v) {
      if (ch == '"' || ch == '\\') q += '\\';
      q += ch;
    }
    return q + "\"";
  };
  std::string line = "{\"ready\":true,\"pid\":" + std::to_string(getpid()) + ",\"method\":" +
                     quoted(session.method()) + ",\"caches\":[";
  for (size_t i = 0; i < caches.size(); ++i) line += (i ? "," : "") + quoted(caches[i]);
  line += "]}\n";
  // A reader that went away is not our failure: tracing goes on either way.
  for (size_t off = 0; off < line.size();) {
    const ssize_t n = write(fd, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(fd);
}

std::vector<SlabCache> read_host_slabinfo() {
  return parse_slabinfo(read_text_file("/proc/slabinfo", kMaxSlabinfoBytes));
}

std::unique_ptr<Session> open_live_session(const TraceOptions& opt) {
  require_bpf_privileges();
  const KernelFeatures kf = probe_kernel_features();
  const CacheMethod method = resolve_method(kf, opt.method);
  const bool exact = method != CacheMethod::derived;

  // The live map is preallocated: refuse one the host cannot hold rather
  // than let the kernel take a quarter of its memory (or fail after seconds).
  const uint64_t map_bytes = opt.max_tracked * kLiveEntryKernelBytes, total = mem_total_bytes();
  if (total && map_bytes > total / 4)
    throw usage_error("--max-tracked " + std::to_string(opt.max_tracked) + " needs about " +
                      format_bytes(static_cast<double>(map_bytes)) + " of kernel memory, over a quarter of this host's " +
                      format_bytes(static_cast<double>(total)) + ": use a smaller --max-tracked");

  // Kept open for the session's re-reads (modules loaded later): opened
  // now, with CAP_SYSLOG, it shows addresses after the exporter drops it.
  const auto kallsyms = std::make_shared<const KeptFile>("/proc/kallsyms");
  std::shared_ptr<const KeptFile> modules;
  try {
    modules = std::make_shared<const KeptFile>("/proc/modules");
  } catch (const Error&) {
    // no module support: nothing can change
  }
  Kallsyms syms = read_kallsyms(*kallsyms);
  if (syms.addresses_hidden() || syms.size() == 0)
    throw env_error("/proc/kallsyms shows no addresses: run as root with CAP_SYSLOG (or lower kernel.kptr_restrict)");
  const auto dispatcher = bpf_dispatcher_text(syms);
  auto symbolizer = std::make_unique<Symbolizer>(std::move(syms), opt.show_addresses);

  // One read serves the selection and the baseline: the slabinfo delta we
  // explain starts here, as close to the attach as we can take it.
  SessionSetup s;
  const double t0 = clock_seconds(CLOCK_MONOTONIC);
  s.slab_start = read_host_slabinfo();
  TracerSetup setup;
  if (dispatcher) {
    setup.dispatch_lo = dispatcher->begin;
    setup.dispatch_hi = dispatcher->end;
  }
  setup.caches = select_caches(opt.caches, HostCaches{s.slab_start, read_slab_links()},
                               NamingAbility{exact, names_alloc_event_cache(kf, method), kf.release});
  PlanRequest want;
  want.method = method;
  want.kmalloc_caches = std::any_of(setup.caches.begin(), setup.caches.end(), [](const auto& c) { return !c.named; });
  want.named_caches = std::any_of(setup.caches.begin(), setup.caches.end(), [](const auto& c) { return c.named; });
  want.filter_tasks = opt.filter_tasks;
  setup.plan = plan_programs(kf, want);
  setup.cg_caches = std::any_of(s.slab_start.begin(), s.slab_start.end(),
                                [](const SlabCache& c) { return c.name.rfind("kmalloc-cg-", 0) == 0; });
  for (const auto& c : setup.caches) s.caches.push_back(c.name);
  s.followed = setup.caches;
  s.method = method_name(method);
  s.arch = std::string(kTargetArch);
  s.stack_fingerprints = stack_fingerprints_state(opt.stack_cache);
  s.sample_every = opt.sample_every;
  s.by = task_key_name(opt.by);
  s.growth_window_s = opt.growth_window.count();
  s.run_s = opt.run_length.count();
  s.stack_idle_s = opt.stack_idle.count();
  s.kernel_release = kf.release;
  auto tracer = std::make_unique<BpfTracer>(opt, setup);
  s.start_s = clock_seconds(CLOCK_MONOTONIC);
  s.attach_ms = (s.start_s - t0) * 1e3;

  SessionHost host;
  host.read_slabinfo = read_host_slabinfo;
  host.monotonic_s = [] { return clock_seconds(CLOCK_MONOTONIC); };
  host.unix_s = [] { return clock_seconds(CLOCK_REALTIME); };
  host.sleep = sleep_unless_stopped;
  host.read_modules = [modules] {
    try {
      return modules ? modules->read(kMaxModulesBytes) : std::string();
    } catch (const Error&) {
      return std::string();
    }
  };
  host.read_kallsyms = [kallsyms] { return read_kallsyms(*kallsyms); };
  return std::make_unique<Session>(std::move(s), std::move(tracer), std::move(symbolizer), std::move(host));
}

}  // namespace slableak
