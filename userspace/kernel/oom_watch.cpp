#include "oom_watch.h"

#include <bpf/libbpf.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "error.h"
#include "printable.h"
#include "oom_event.h"
#include "oom_watch.skel.h"

namespace slableak {
namespace {

static_assert(sizeof(slk_oom_event) == 104, "struct slk_oom_event: BPF and userspace disagree");
constexpr size_t kMaxPending = 64;

std::string bounded_comm(const char* c) { return std::string(c, strnlen(c, SLK_OOM_COMM_LEN)); }

double clock_s(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

std::string process_cgroup_path(int32_t pid) {
  // The cgroup v2 path; on a hybrid host (v1 controllers, cgroup2 without
  // the memory controller) the v2 path is often "/", and the memory
  // controller's v1 path says where the OOM happened: "memory:/path".
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line, v2, memory_v1;
  int lines = 0;
  while (std::getline(in, line) && ++lines < 256) {
    if (line.compare(0, 3, "0::") == 0) v2 = line.substr(3);
    const auto colon = line.find(':');
    if (colon != std::string::npos && line.compare(colon, 8, ":memory:") == 0) memory_v1 = line.substr(colon + 8);
  }
  if ((v2.empty() || v2 == "/") && !memory_v1.empty()) return "memory:" + memory_v1;
  return v2;
}

void OomWatch::SkelDeleter::operator()(oom_watch_bpf* s) const { oom_watch_bpf__destroy(s); }
void OomWatch::RingDeleter::operator()(ring_buffer* r) const { ring_buffer__free(r); }

OomWatch::OomWatch() {
  // vmlinux's BTF as the CO-RE target, as for the main skeleton
  // (bpf_tracer.cpp): libbpf stays off the module BTFs, which need
  // CAP_SYS_ADMIN to list.
  LIBBPF_OPTS(bpf_object_open_opts, opts);
  if (access("/sys/kernel/btf/vmlinux", R_OK) == 0) opts.btf_custom_path = "/sys/kernel/btf/vmlinux";
  skel_.reset(oom_watch_bpf__open_opts(&opts));
  if (!skel_) throw runtime_error(std::string("opening the OOM watcher failed: ") + std::strerror(errno));
  if (int err = oom_watch_bpf__load(skel_.get()))
    throw runtime_error(std::string("loading the OOM watcher failed: ") + std::strerror(-err));
  if (int err = oom_watch_bpf__attach(skel_.get()))
    throw runtime_error(std::string("attaching to oom:mark_victim failed: ") + std::strerror(-err));
  pending_.reserve(kMaxPending);
  ring_.reset(ring_buffer__new(bpf_map__fd(skel_->maps.oom_events), &OomWatch::on_event, this, nullptr));
  if (!ring_) throw runtime_error(std::string("the OOM watcher's ring buffer: ") + std::strerror(errno));
}

OomWatch::~OomWatch() = default;

int OomWatch::on_event(void* ctx, void* data, size_t size) {
  auto* self = static_cast<OomWatch*>(ctx);
  if (size < sizeof(slk_oom_event) || self->pending_.size() >= kMaxPending) return 0;
  const auto* e = static_cast<const slk_oom_event*>(data);
  OomVictim v;
  v.pid = e->pid;
  // The event's own time (bpf_ktime_get_ns: CLOCK_MONOTONIC), and on the
  // wall clock through the offset between the two clocks now.
  v.monotonic_s = static_cast<double>(e->time_ns) / 1e9;
  v.unix_time = v.monotonic_s + (clock_s(CLOCK_REALTIME) - clock_s(CLOCK_MONOTONIC));
  if (e->flags & SLK_OOM_VICTIM_TASK) v.comm = bounded_comm(e->comm);
  if (v.comm.empty()) v.comm = first_line("/proc/" + std::to_string(e->pid) + "/comm");
  // /proc/PID/cgroup of a victim that already exited says "/": the name
  // the BPF program read from the task is then the better answer.
  v.cgroup = process_cgroup_path(e->pid);
  const std::string memcg = std::string(e->memcg_name, strnlen(e->memcg_name, SLK_OOM_CGROUP_NAME_LEN));
  if ((v.cgroup.empty() || v.cgroup == "/" || v.cgroup == "memory:/") && (e->flags & SLK_OOM_VICTIM_TASK) &&
      !memcg.empty() && memcg != "/")
    v.cgroup = "memory cgroup " + memcg;
  if (v.cgroup.empty() && e->cgroup_id) v.cgroup = "id " + std::to_string(e->cgroup_id);
  // Any process names itself: escaped here, once, before the names reach
  // stderr, the manifest, the reason line and `slableak captures`.
  v.comm = printable(v.comm, 64);
  v.cgroup = printable(v.cgroup, 200);
  self->pending_.push_back(std::move(v));
  return 0;
}

std::vector<OomVictim> OomWatch::drain() {
  ring_buffer__consume(ring_.get());
  std::vector<OomVictim> out;
  out.swap(pending_);
  pending_.reserve(kMaxPending);
  return out;
}

uint64_t OomWatch::lost() const { return skel_->bss ? skel_->bss->lost : 0; }

}  // namespace slableak
