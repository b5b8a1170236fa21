#include "bpf_tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstdarg>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <algorithm>
#include <sstream>
#include <string_view>

#include "agg_map_reader.h"
#include "error.h"
#include "prog_stats.h"
#include "slableak.skel.h"
#include "slableak_nocmpxchg.skel.h"
#include "slableak_nokfunc.skel.h"
#include "stack_learning.h"
#include "target_arch.h"

namespace slableak {
namespace {

// libbpf's log (verifier output included) is kept, not printed: it is only
// shown when loading fails, as the reason.
std::string& libbpf_log() {
  static std::string log;
  return log;
}

int collect_libbpf_log(enum libbpf_print_level level, const char* fmt, va_list args) {
  // SLABLEAK_LIBBPF_DEBUG=1 streams libbpf's whole log (verifier included).
  static const bool debug = std::getenv("SLABLEAK_LIBBPF_DEBUG") != nullptr;
  if (debug) {
    va_list copy;
    va_copy(copy, args);
    vfprintf(stderr, fmt, copy);
    va_end(copy);
  }
  if (level == LIBBPF_DEBUG) return 0;
  // The verifier log arrives as one message: size it, don't truncate it.
  va_list measure;
  va_copy(measure, args);
  const int need = vsnprintf(nullptr, 0, fmt, measure);
  va_end(measure);
  if (need <= 0) return 0;
  std::string buf(static_cast<size_t>(need) + 1, '\0');
  const int n = vsnprintf(buf.data(), buf.size(), fmt, args);
  buf.resize(static_cast<size_t>(need));
  auto& log = libbpf_log();
  log += buf;
  if (log.size() > (1 << 20)) log.erase(0, log.size() - (1 << 19));
  return n;
}

std::string log_tail(size_t lines) {
  const auto& log = libbpf_log();
  size_t pos = log.size(), count = 0;
  while (pos > 0 && count <= lines) {
    pos = log.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
    ++count;
  }
  std::string tail = log.substr(pos);
  while (!tail.empty() && (tail.front() == '\n')) tail.erase(0, 1);
  return tail;
}

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t fd_memlock(int fd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
  std::string key;
  uint64_t v = 0;
  while (in >> key) {
    if (key == "memlock:") {
      in >> v;
      return v;
    }
  }
  return 0;
}

// The skeleton of bpf/slableak.bpf.c, opened from the object with the
// bpf_get_kmem_cache extern only when the kfunc programs will run. Otherwise
// from slableak_nokfunc.bpf.o: the same maps, programs and data sections
// (one source, built with SLK_NO_KFUNC), without the extern that makes
// libbpf 1.1 iterate module BTFs, which needs CAP_SYS_ADMIN where vmlinux
// lacks the kfunc (see bpf/slableak.bpf.c).
slableak_bpf* open_skeleton(bool with_kfunc, bool with_cmpxchg) {
  // A CO-RE relocation whose type this kernel's vmlinux lacks (enum pagetype
  // before 6.10, read under bpf_core_enum_value_exists) also sends libbpf 1.1
  // to the module BTFs, and listing them needs CAP_SYS_ADMIN, which the
  // systemd unit does not grant: loading failed with EPERM on 6.1. Naming
  // vmlinux's BTF as the CO-RE target keeps libbpf off the modules (we
  // relocate against vmlinux types only; the kfunc extern is resolved
  // against the running kernel's BTF either way).
  LIBBPF_OPTS(bpf_object_open_opts, opts);
  if (access("/sys/kernel/btf/vmlinux", R_OK) == 0) opts.btf_custom_path = "/sys/kernel/btf/vmlinux";
  if (with_kfunc) return slableak_bpf__open_opts(&opts);
  auto* obj = static_cast<slableak_bpf*>(calloc(1, sizeof(slableak_bpf)));
  if (!obj) return nullptr;
  int err = slableak_bpf__create_skeleton(obj);
  if (!err) {
    // Before 5.12 the verifier refuses the object's compare-and-exchange
    // even where it never runs: that kernel gets the one built without.
    obj->skeleton->data = const_cast<void*>(with_cmpxchg ? slableak_nokfunc_bpf__elf_bytes(&obj->skeleton->data_sz)
                                                         : slableak_nocmpxchg_bpf__elf_bytes(&obj->skeleton->data_sz));
    err = bpf_object__open_skeleton(obj->skeleton, &opts);
  }
  if (err) {
    slableak_bpf__destroy(obj);
    errno = -err;
    return nullptr;
  }
  return obj;
}

}  // namespace

BpfTracer::BpfTracer(const TraceOptions& opt, const TracerSetup& cfg) {
  libbpf_set_print(collect_libbpf_log);
  libbpf_log().clear();
  ncpus_ = libbpf_num_possible_cpus();
  if (ncpus_ <= 0) throw runtime_error("cannot count possible CPUs");
  if (cfg.caches.empty() || cfg.caches.size() > SLK_MAX_CACHES)
    throw usage_error("select between 1 and " + std::to_string(SLK_MAX_CACHES) + " caches");

  // Everything that can be refused without the kernel is checked before the
  // skeleton exists: a constructor that throws never runs its destructor.
  if (opt.max_tracked == 0 || opt.max_tracked > UINT32_MAX)
    throw usage_error("--max-tracked must be between 1 and 4294967295");

  const ProgramPlan& plan = cfg.plan;
  skel_.reset(open_skeleton(plan.kfunc_object, plan.live_array));
  if (!skel_) throw runtime_error(std::string("cannot open the BPF object: ") + std::strerror(errno));

  auto* ro = skel_->rodata;
  ro->n_caches = static_cast<uint32_t>(cfg.caches.size());
  ro->sample_every = opt.sample_every ? opt.sample_every : 1;
  ro->stack_cache = opt.stack_cache && kStackFingerprintsProven;  // compiled out too (bpf/stack_cache.h)
  ro->cg_caches = cfg.cg_caches;
  ro->dispatch_lo = cfg.dispatch_lo;
  ro->dispatch_hi = cfg.dispatch_hi;
  ro->alloc_event_has_cache = plan.alloc_event_has_cache;
  ro->filter_tasks = opt.filter_tasks;
  static_assert(kByLimitRange.max == SLK_MAX_TASK_SLOTS, "--by-limit is bounded by the slot byte");
  ro->by_mode = opt.by == TaskKey::comm ? SLK_BY_COMM
                : opt.by == TaskKey::pid  ? SLK_BY_PID
                : opt.by == TaskKey::cgroup ? SLK_BY_CGROUP
                                            : SLK_BY_NONE;
  ro->by_limit = std::min<uint32_t>(opt.by_limit, SLK_MAX_TASK_SLOTS);
  if (opt.by != TaskKey::none) task_names_ = std::make_unique<TaskNames>(opt.by);
  // The kmalloc programs watch the union of the kmalloc caches' size
  // classes; named caches come through kmem_cache_alloc instead.
  uint32_t lo = UINT32_MAX, hi = 0;
  for (size_t i = 0; i < cfg.caches.size(); ++i) {
    const auto& c = cfg.caches[i];
    slk_cache_sel sel{};
    std::strncpy(sel.name, c.name.c_str(), SLK_CACHE_NAME_LEN - 1);
    sel.req_lo = c.req_lo;
    sel.req_hi = c.req_hi;
    sel.kmalloc_type = static_cast<uint32_t>(c.type);
    sel.obj_size = c.obj_size;
    std::memcpy(const_cast<slk_cache_sel*>(&ro->caches[i]), &sel, sizeof sel);
    if (c.type == KmallocType::large) {  // its own test, outside the window (bpf in_size_window)
      ro->large_idx = static_cast<int32_t>(i);
      ro->large_above = c.req_lo;
      continue;
    }
    if (c.named) continue;
    lo = std::min(lo, sel.req_lo);
    hi = std::max(hi, sel.req_hi);
  }
  ro->req_lo_min = hi > 0 ? lo : 0;
  ro->req_hi_max = hi;

  // The plan (model/program_plan.cpp) says which programs load and which
  // attach with the others; every other program of the object stays out.
  for (const PlannedProgram& want : plan.programs)
    if (!bpf_object__find_program_by_name(skel_->obj, std::string(want.name).c_str()))
      throw runtime_error("the BPF object has no program " + std::string(want.name));
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel_->obj) {
    const PlannedProgram* want = plan.find(bpf_program__name(prog));
    bpf_program__set_autoload(prog, want != nullptr);
    bpf_program__set_autoattach(prog, want && want->attach == Attach::with_tracing);
  }

  cap_ = {opt.max_tracked, opt.max_aggregates, opt.max_stacks};
  // The live set (bpf/live_table.h): in the array table, one slot per
  // tracked object, 7 to a bucket (the last bucket's slots past
  // --max-tracked stay unused); the maps of the other kind shrink to one
  // entry.
  if (plan.live_array) {
    const uint64_t buckets = (opt.max_tracked + SLK_LIVE_WAYS - 1) / SLK_LIVE_WAYS;
    ro->live_buckets = static_cast<uint32_t>(buckets);
    ro->live_slots = static_cast<uint32_t>(opt.max_tracked);
    bpf_map__set_max_entries(skel_->maps.live, 1);
    bpf_map__set_max_entries(skel_->maps.live_keys, static_cast<uint32_t>(buckets));
    bpf_map__set_max_entries(skel_->maps.live_vals, static_cast<uint32_t>(buckets * SLK_LIVE_WAYS));
  } else {
    bpf_map__set_max_entries(skel_->maps.live, static_cast<uint32_t>(opt.max_tracked));
  }
  // The aggregates (bpf/agg_table.h) go with the live set: with the array
  // table, an array of twice --max-aggregates slots (open addressing fills
  // well below full); with the hash map, the hash map.
  if (plan.live_array) {
    ro->agg_slot_count = static_cast<uint32_t>(agg_slot_count_for(opt.max_aggregates));
    bpf_map__set_max_entries(skel_->maps.agg_slots, ro->agg_slot_count);
    bpf_map__set_max_entries(skel_->maps.aggs, 1);
  } else {
    bpf_map__set_max_entries(skel_->maps.agg_slots, 1);
    bpf_map__set_max_entries(skel_->maps.aggs, opt.max_aggregates);
  }
  bpf_map__set_max_entries(skel_->maps.stacks, opt.max_stacks);
  // The free path's filter (bpf/slableak.bpf.c live_filter): every free of
  // every cache reads one slot, so it is sized to stay in cache rather than
  // to the live map: a quarter slot per live entry, 4096 to 2^18 slots
  // (16 KiB to 1 MiB). Mostly zero while the tracked set is small (sampled
  // mode, no leak); a saturated filter costs what no filter would.
  uint32_t bits = 12;
  while (bits < 18 && (uint64_t{1} << bits) < opt.max_tracked / 4) ++bits;
  ro->filter_bits = bits;
  bpf_map__set_max_entries(skel_->maps.live_filter, uint32_t{1} << (bits - 4));

  int err = slableak_bpf__load(skel_.get());
  if (err) {
    const int e = -err;
    std::string why = log_tail(40);
    skel_.reset();
    const bool map_failed = libbpf_log().find("failed to create map") != std::string::npos ||
                            libbpf_log().find("map 'live") != std::string::npos;
    if ((e == ENOMEM || e == E2BIG) && map_failed)
      throw usage_error("the kernel refused a live map of " + std::to_string(opt.max_tracked) + " entries (" +
                        (e == E2BIG ? "E2BIG" : "ENOMEM") +
                        "): use a smaller --max-tracked (1M costs about " +
                        (plan.live_array ? "40" : "105") + " MiB of kernel memory)");
    // As root, EACCES is the verifier refusing a program: show why.
    if ((e == EPERM || e == EACCES) && (geteuid() != 0 || why.empty()))
      throw env_error("the kernel refused to load BPF programs (" + std::string(std::strerror(e)) +
                      "): run as root; check kernel.unprivileged_bpf_disabled and lockdown");
    throw runtime_error("loading the BPF programs failed (" + std::string(std::strerror(e)) + "):\n" + why);
  }
  // The verdict's name table (bpf/cache_verdict.h), before anything runs.
  for (size_t i = 0; i < cfg.caches.size(); ++i) {
    const uint64_t h = slk_name_hash(cfg.caches[i].name);
    const int32_t idx = static_cast<int32_t>(i);
    if (bpf_map_update_elem(bpf_map__fd(skel_->maps.name_sel), &h, &idx, BPF_NOEXIST) != 0)
      throw runtime_error("two selected caches share a name hash (" + cfg.caches[i].name +
                          "): follow them in separate runs");
  }
  if (plan.live_array) {
    live_buckets_ = bpf_map__max_entries(skel_->maps.live_keys);
    agg_slots_ = bpf_map__max_entries(skel_->maps.agg_slots);
  }
  // The skeleton's owner detaches and unloads everything if this throws.
  if (plan.calibrates()) calibrate_slab_walk(plan);
  err = slableak_bpf__attach(skel_.get());
  if (err) {
    const int e = -err;
    std::string why = log_tail(6);
    skel_.reset();
    throw runtime_error("attaching to the kmem tracepoints failed (" + std::string(std::strerror(e)) + "): " + why);
  }
}

// Finds page_delta for the slab walk (bpf/slab_walk.h): provokes large
// kmallocs, whose struct page (mm_page_alloc) and address (kmalloc) the
// calibration programs pair up, and keeps the delta most pairs agree on.
void BpfTracer::calibrate_slab_walk(const ProgramPlan& plan) {
  std::vector<bpf_link*> links;
  auto detach = [&] {
    for (auto* l : links) bpf_link__destroy(l);
    links.clear();
  };
  for (const PlannedProgram& calib : plan.programs) {
    if (calib.attach != Attach::calibration) continue;
    bpf_link* l = bpf_program__attach(bpf_object__find_program_by_name(skel_->obj, std::string(calib.name).c_str()));
    if (!l) {
      const int e = errno;
      detach();
      throw runtime_error("attaching the slab-walk calibration failed (" + std::string(std::strerror(e)) +
                          "): use --method derived");
    }
    links.push_back(l);
  }
  // setxattr() copies the value into a kvmalloc'ed buffer before it looks at
  // the name, the permissions or the filesystem: a 16 KiB value is a large
  // kmalloc (an order-2 page from the page allocator) on every kernel, also
  // for a call bound to fail. Ours cannot succeed, so nothing is ever
  // written: no filesystem has the "slableak." namespace (EOPNOTSUPP), and
  // XATTR_REPLACE of a name that exists nowhere fails (ENODATA) on the one
  // kind that passes every name on, FUSE. Before about 6.8 the kernel first
  // asks for write access to the mount, so a read-only "/" (systemd's
  // ProtectSystem=strict, as in our unit) gives EROFS and no allocation: try
  // writable places then (PrivateTmp's /tmp, /dev/shm, /run).
  static char value[16384];
  constexpr const char* kName = "slableak.calibration";
  for (const char* path : {"/", "/tmp", "/dev/shm", "/run"}) {
    errno = 0;
    if (setxattr(path, kName, value, sizeof value, XATTR_REPLACE) != 0 && (errno == EROFS || errno == ENOENT))
      continue;
    for (int i = 1; i < 16; ++i) (void)setxattr(path, kName, value, sizeof value, XATTR_REPLACE);
    break;
  }
  detach();

  const int vfd = bpf_map__fd(skel_->maps.calib_votes);
  uint64_t key = 0, next = 0, best = 0, best_n = 0, total = 0;
  void* prev = nullptr;
  while (bpf_map_get_next_key(vfd, prev, &next) == 0) {
    uint64_t n = 0;
    if (bpf_map_lookup_elem(vfd, &next, &n) == 0) {
      total += n;
      if (n > best_n) best = next, best_n = n;
    }
    key = next;
    prev = &key;
  }
  // 16 provoked pairs; an interrupt between the page allocation and the
  // kmalloc event spoils one now and then. Demand a clear majority.
  if (best_n < 4 || best_n * 3 < total * 2)
    throw env_error("cannot locate the slab of an object on this kernel (" + std::to_string(best_n) + " of " +
                    std::to_string(total) + " calibration pairs agreed): use --method derived");
  skel_->bss->page_delta = best;
  calib_votes_ = static_cast<unsigned>(best_n);
}

void BpfTracer::SkeletonDeleter::operator()(slableak_bpf* s) const { slableak_bpf__destroy(s); }

BpfTracer::~BpfTracer() = default;

void BpfTracer::set_epoch_shift(uint32_t shift) { skel_->data->epoch_shift = shift; }

void BpfTracer::allow_task(uint32_t tgid) {
  const uint8_t one = 1;
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.task_filter), &tgid, &one, BPF_ANY) != 0)
    throw runtime_error("cannot follow process " + std::to_string(tgid) + ": " + std::strerror(errno));
}

uint64_t BpfTracer::tasks_not_followed() const { return skel_->bss->task_filter_full; }

KernelRead BpfTracer::read(const std::function<bool(uint32_t)>& want_stack) {
  learn_sites();
  KernelRead r;
  r.now_ns = monotonic_ns();

  // The array table first, the rows after (model/live_tally.h says why).
  LiveCounts live;
  if (live_buckets_) live = count_live_table();
  if (agg_slots_) {
    last_agg_slots_ = read_agg_slots();
    r.aggs = agg_rows_of(last_agg_slots_);
  } else {
    r.aggs = read_aggregate_map(bpf_map__fd(skel_->maps.aggs), cap_.aggregates, last_agg_rows_);
  }
  last_agg_rows_ = r.aggs.size();
  if (live_buckets_) apply_live_counts(live, r.aggs);

  // Stacks: only those the caller has not symbolized yet (a stack id's
  // frames never change while the map holds it).
  std::vector<uint32_t> ids;
  for (const auto& row : r.aggs)
    if (row.key.stack_id != SLK_STACK_UNAVAILABLE) ids.push_back(row.key.stack_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const int sfd = bpf_map__fd(skel_->maps.stacks);
  std::vector<uint64_t> ips(SLK_MAX_STACK_DEPTH);
  for (uint32_t id : ids) {
    if (want_stack && !want_stack(id)) continue;
    std::fill(ips.begin(), ips.end(), 0);
    if (bpf_map_lookup_elem(sfd, &id, ips.data()) == 0) r.stacks.emplace(id, ips);
  }
  // What the store really holds, referenced by an aggregate or not (a
  // stack kept while its aggregate insert failed, a learning sample's):
  // one key walk, so it costs what the stacks held cost.
  r.stored_stacks.reserve(ids.size());
  uint32_t key = 0, next = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(sfd, prev, &next) == 0 && r.stored_stacks.size() < cap_.stacks) {
    r.stored_stacks.push_back(next);
    key = next;
    prev = &key;
  }

  if (task_names_) {
    // Slots are never given back within a run: a name, once read, stays.
    const int ofd = bpf_map__fd(skel_->maps.slot_owner);
    uint32_t slot = 0, next_slot = 0;
    const void* prev_slot = nullptr;
    size_t walked = 0;
    while (bpf_map_get_next_key(ofd, prev_slot, &next_slot) == 0 && walked++ < SLK_MAX_TASK_SLOTS) {
      slot = next_slot;
      prev_slot = &slot;
      if (slot == 0 || slot > SLK_MAX_TASK_SLOTS) continue;
      auto known = task_name_of_slot_.find(static_cast<uint8_t>(slot));
      if (known == task_name_of_slot_.end()) {
        slk_task_key k{};
        if (bpf_map_lookup_elem(ofd, &slot, &k) != 0) continue;
        std::string name = task_names_->name(k);
        // A cgroup not found yet (created after the walk) is looked for again.
        if (name.rfind("cgroup ", 0) == 0) {
          r.task_names[static_cast<uint8_t>(slot)] = name;
          continue;
        }
        known = task_name_of_slot_.emplace(static_cast<uint8_t>(slot), std::move(name)).first;
      }
      r.task_names[known->first] = known->second;
    }
  }

  std::vector<slk_stats> per_cpu(static_cast<size_t>(ncpus_));
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.stats), &zero, per_cpu.data()) == 0) {
    slk_stats sum{};
    auto* out = reinterpret_cast<uint64_t*>(&sum);
    for (const auto& c : per_cpu) {
      const auto* v = reinterpret_cast<const uint64_t*>(&c);
      for (size_t i = 0; i < sizeof(slk_stats) / sizeof(uint64_t); ++i) out[i] += v[i];
    }
    r.counters.set_from_kernel(sum);
  }

  r.programs = read_program_runs(program_fds());
  const MissTotals misses = sum_misses(r.programs);
  r.counters[TracerCounter::recursion_misses] = misses.all;
  // A free event lost this way leaves its object counted until the address
  // is reused: those misses make the counts upper bounds.
  r.free_recursion_misses = misses.frees;

  // After the stats: the kernel bumps a cache's implicit frees before the
  // total (bpf/slableak.bpf.c retire_reused), so the total never exceeds them.
  std::vector<slk_cache_frees> frees(static_cast<size_t>(ncpus_));
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.cache_frees), &zero, frees.data()) == 0)
    for (const auto& c : frees)
      for (size_t i = 0; i < SLK_MAX_CACHES; ++i) r.implicit_frees_by_cache[i] += c.implicit[i];
  return r;
}

std::vector<ProgramFd> BpfTracer::program_fds() const {
  std::vector<ProgramFd> out;
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel_->obj) out.push_back({bpf_program__name(prog), bpf_program__fd(prog)});
  return out;
}

size_t BpfTracer::learn_sites() {
  const int lfd = bpf_map__fd(skel_->maps.learn);
  const int sfd = bpf_map__fd(skel_->maps.stacks);
  const int site_fd = bpf_map__fd(skel_->maps.sites);
  std::vector<uint64_t> keys;
  uint64_t k = 0, next = 0;
  void* prev = nullptr;
  while (bpf_map_get_next_key(lfd, prev, &next) == 0 && keys.size() < 4096) {
    keys.push_back(next);
    k = next;
    prev = &k;
  }
  size_t learned = 0;
  auto sample = std::make_unique<slk_learn>();
  std::vector<uint64_t> ips(SLK_MAX_STACK_DEPTH);
  for (uint64_t call_site : keys) {
    if (bpf_map_lookup_elem(lfd, &call_site, sample.get()) == 0) {
      std::fill(ips.begin(), ips.end(), 0);
      if (bpf_map_lookup_elem(sfd, &sample->stack_id, ips.data()) == 0) {
        const slk_site site = learn_site_offsets(call_site, ips, reinterpret_cast<const uint64_t*>(sample->raw),
                                                 sample->nwords);
        // Publish only what two samples agree on; deleting the sample
        // below makes the kernel take the second one.
        auto first = first_sample_.find(call_site);
        if (first == first_sample_.end()) {
          if (first_sample_.size() < 4096) first_sample_.emplace(call_site, site);
        } else {
          const slk_site agreed = agreed_site(first->second, site);
          first_sample_.erase(first);
          if (bpf_map_update_elem(site_fd, &call_site, &agreed, BPF_NOEXIST) == 0) ++learned;
        }
      }
    }
    bpf_map_delete_elem(lfd, &call_site);
  }
  return learned;
}

// The live table, a window at a time: 16384 buckets (1 MiB of keys and
// 1.75 MiB of values; a multiple of 256 buckets starts both on a page).
LiveCounts BpfTracer::count_live_table() const {
  constexpr size_t kWindow = 16384;
  static_assert(kWindow % 256 == 0 && sizeof(LiveBucket) * 256 % 4096 == 0 &&
                    sizeof(slk_live) * SLK_LIVE_WAYS * 256 % 4096 == 0,
                "windows start on a page in both maps");
  LiveCounts counts;
  const int kfd = bpf_map__fd(skel_->maps.live_keys), vfd = bpf_map__fd(skel_->maps.live_vals);
  for (size_t first = 0; first < live_buckets_; first += kWindow) {
    const size_t n = std::min(kWindow, live_buckets_ - first);
    const MapView keys(kfd, first, n, sizeof(LiveBucket));
    const MapView vals(vfd, first * SLK_LIVE_WAYS, n * SLK_LIVE_WAYS, sizeof(slk_live));
    count_live({keys.as<LiveBucket>(), vals.as<slk_live>(), n}, counts);
  }
  return counts;
}

// The aggregate table a window at a time: 32768 slots, 1 MiB.
constexpr size_t kAggWindow = 32768;
static_assert(sizeof(slk_agg_slot) * kAggWindow % 4096 == 0, "windows start on a page");

AggSlots BpfTracer::read_agg_slots() const {
  AggSlots held;
  const int fd = bpf_map__fd(skel_->maps.agg_slots);
  for (size_t first = 0; first < agg_slots_; first += kAggWindow) {
    const size_t n = std::min(kAggWindow, agg_slots_ - first);
    const MapView v(fd, first, n, sizeof(slk_agg_slot));
    collect_agg_slots(v.as<slk_agg_slot>(), n, static_cast<uint32_t>(first), held);
  }
  return held;
}

void BpfTracer::retire(const std::vector<slk_agg_key>& keys) {
  if (!agg_slots_) {
    const int fd = bpf_map__fd(skel_->maps.aggs);
    for (const auto& k : keys) bpf_map_delete_elem(fd, &k);
    return;
  }
  // The slots the last read found each key in, by window.
  std::map<size_t, std::vector<uint32_t>> by_window;
  for (const auto& k : keys) {
    const auto it = last_agg_slots_.by_key.find(k);
    if (it == last_agg_slots_.by_key.end()) continue;
    for (uint32_t i : it->second.slots) by_window[i / kAggWindow].push_back(i);
    last_agg_slots_.by_key.erase(it);
  }
  const int fd = bpf_map__fd(skel_->maps.agg_slots);
  for (const auto& [w, slots] : by_window) {
    const size_t first = w * kAggWindow, n = std::min(kAggWindow, agg_slots_ - first);
    const MapView v(fd, first, n, sizeof(slk_agg_slot), true);
    for (uint32_t i : slots) free_agg_slot(v.as_mut<slk_agg_slot>()[i - first]);
  }
}

size_t BpfTracer::retire_stacks(const std::vector<uint32_t>& ids) {
  if (ids.empty()) return 0;
  std::vector<uint32_t> sorted(ids);
  std::sort(sorted.begin(), sorted.end());
  // Collect, then delete: get_next_key after a deleted key restarts the walk.
  const int ffd = bpf_map__fd(skel_->maps.fingerprints);
  std::vector<slk_fp_key> doomed;
  slk_fp_key key{}, next{};
  slk_fp_val val{};
  const void* prev = nullptr;
  size_t walked = 0;
  while (bpf_map_get_next_key(ffd, prev, &next) == 0 && walked++ < bpf_map__max_entries(skel_->maps.fingerprints)) {
    if (bpf_map_lookup_elem(ffd, &next, &val) == 0 && std::binary_search(sorted.begin(), sorted.end(), val.stack_id))
      doomed.push_back(next);
    key = next;
    prev = &key;
  }
  for (const auto& k : doomed) bpf_map_delete_elem(ffd, &k);
  // After the deletes: every CPU's memo of a trusted fingerprint
  // (bpf/stack_cache.h) is dropped, so none serves a retired stack's id.
  __atomic_fetch_add(&skel_->bss->fp_gen, 1, __ATOMIC_SEQ_CST);
  const int sfd = bpf_map__fd(skel_->maps.stacks);
  size_t deleted = 0;
  for (uint32_t id : sorted)
    if (bpf_map_delete_elem(sfd, &id) == 0) ++deleted;
  return deleted;
}

uint64_t BpfTracer::kernel_map_bytes() const {
  uint64_t total = 0;
  bpf_map* m;
  bpf_object__for_each_map(m, skel_->obj) {
    const int fd = bpf_map__fd(m);
    if (fd >= 0) total += fd_memlock(fd);
  }
  return total;
}

}  // namespace slableak
