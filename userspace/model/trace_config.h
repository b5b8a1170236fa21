// What shapes a tracing session, as validated values: the one record that
// the command line fills (cli/run_config.h) and the session and the BPF
// tracer read. Limits live here so that the parser and the docs test agree.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace slableak {

// How the cache of an allocation is named (model/program_plan.h picks the
// programs): the kernel's bpf_get_kmem_cache, the object's own slab, or a
// guess from size class and gfp flags; automatic: the best the kernel has.
enum class CacheMethod { automatic, kfunc, slab, derived };
// The one name of each method: --method takes it, reports print it.
inline constexpr std::pair<const char*, CacheMethod> kCacheMethodNames[] = {
    {"auto", CacheMethod::automatic}, {"kfunc", CacheMethod::kfunc},
    {"slab", CacheMethod::slab},      {"derived", CacheMethod::derived}};

// --by: who allocated joins the aggregation key (bpf/task_key.h).
enum class TaskKey { none, comm, pid, cgroup };
inline const char* task_key_name(TaskKey k) {
  switch (k) {
    case TaskKey::comm: return "comm";
    case TaskKey::pid: return "pid";
    case TaskKey::cgroup: return "cgroup";
    case TaskKey::none: break;
  }
  return "";
}

struct TraceOptions {
  std::vector<std::string> caches{"kmalloc-2k"};
  CacheMethod method = CacheMethod::automatic;
  bool stack_cache = true;  // fingerprint known paths instead of unwinding each allocation
  uint64_t max_tracked = 1'000'000;
  uint32_t max_stacks = 16384;
  uint32_t max_aggregates = 65536;
  uint32_t sample_every = 1;
  bool show_addresses = false;
  std::chrono::duration<double> growth_window{60};
  // How long the run will be, when that is known (snapshot --duration): the
  // verdicts' history rule fits it. 0: open-ended.
  std::chrono::duration<double> run_length{0};
  // Retire a stack after this long with nothing outstanding and no allocation.
  std::chrono::duration<double> stack_idle{600};
  // `run --only-command`: count only the allocations of the processes the
  // session is told about (TraceSource::allow_task) and their descendants.
  bool filter_tasks = false;
  // --by: the allocating task (comm, process or cgroup) joins the key of
  // the held objects; the first --by-limit tasks get their own rows, later
  // ones share "other".
  TaskKey by = TaskKey::none;
  uint32_t by_limit = 32;
};

// Inclusive ranges of the numeric options (docs/cli.md lists the same).
struct Range {
  uint64_t min, max;
};
inline constexpr Range kMaxTrackedRange{1, 16'777'216};     // ~1.8 GiB of kernel map at the top
inline constexpr Range kMaxStacksRange{16, 1'048'576};      // stacks held at once in the stack store
inline constexpr Range kMaxAggregatesRange{16, 4'194'304};  // (stack, cache, epoch) summaries
inline constexpr Range kSampleEveryRange{1, 1'000'000};
inline constexpr Range kTopRange{0, 100'000};      // stacks shown; 0 = all
inline constexpr Range kTopStacksRange{1, 10'000};  // exporter series per cache
inline constexpr Range kByLimitRange{1, 255};       // task slots: one byte of the key (SLK_MAX_TASK_SLOTS)
// Kernel memory one live-map entry costs at most, measured (`slableak
// check`: 104.5 MiB for 1M entries, all maps, with the hash map of kernels
// before 5.12; the array table of 5.12+ takes 42.9 MiB; docs/performance.md);
// used to refuse a --max-tracked the host cannot hold before the kernel is
// asked, so the larger figure.
inline constexpr uint64_t kLiveEntryKernelBytes = 109;

std::string method_name(CacheMethod m);

}  // namespace slableak
