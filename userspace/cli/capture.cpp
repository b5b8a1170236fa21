#include "capture.h"

#include <time.h>

#include <iostream>
#include <sstream>

#include "error.h"
#include "oom_watch.h"
#include "proc_files.h"
#include "capture_manifest.h"
#include "report.h"
#include "signals.h"
#include "units.h"

namespace slableak {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double clock_s(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string read_or_say(const std::string& path, size_t max) {
  try {
    return read_text_file(path, max);
  } catch (const Error& e) {
    return std::string("unreadable: ") + e.what() + "\n";
  }
}

void say(const std::string& line) { std::cerr << ("slableak: " + line + "\n") << std::flush; }

std::string percent(double share) {
  std::ostringstream o;
  o.precision(3);
  o << share * 100 << "%";
  return o.str();
}

// Every file of a capture, in the order they are written.
std::vector<CaptureFile> capture_files(const Snapshot& report, const std::string& metrics) {
  std::vector<CaptureFile> files;
  files.reserve(8);
  std::ostringstream json, svg, pprof;
  write_json(json, report, 0);
  files.push_back({"report.json", std::move(json).str()});
  write_svg(svg, report, 0);
  files.push_back({"flamegraph.svg", std::move(svg).str()});
  write_pprof(pprof, report, 0);
  files.push_back({"profile.pb.gz", std::move(pprof).str()});
  files.push_back({"meminfo", read_or_say("/proc/meminfo", kMaxMeminfoBytes)});
  files.push_back({"slabinfo", read_or_say("/proc/slabinfo", kMaxSlabinfoBytes)});
  files.push_back({"metrics.prom", metrics});
  return files;
}

}  // namespace

FlightRecorder::FlightRecorder(const ExportConfig& eo)
    : eo_(eo), store_(eo.capture_dir, eo.capture_keep, eo.capture_max_bytes) {
  const std::string meminfo = read_text_file("/proc/meminfo", kMaxMeminfoBytes);
  const int64_t total = meminfo_bytes(meminfo, "MemTotal");
  if (total <= 0 && eo.capture_sunreclaim && eo.capture_sunreclaim->share > 0)
    throw env_error("--capture-when-sunreclaim in percent needs MemTotal from /proc/meminfo: give a size instead");
  mem_total_ = static_cast<uint64_t>(std::max<int64_t>(total, 0));
  if (eo.capture_sunreclaim) {
    sunreclaim_at_ = eo.capture_sunreclaim->resolve(mem_total_);
    sunreclaim_.emplace(static_cast<double>(sunreclaim_at_), 0.9 * static_cast<double>(sunreclaim_at_));
  }
  if (eo.capture_growth) growth_.emplace(static_cast<double>(eo.capture_growth->bytes), eo.capture_growth->window_s);
  if (eo.capture_on_leaking) leaking_.emplace();
  writer_ = std::thread([this] { run_writer(); });
}

// Captures already handed over are still written: a SIGTERM right after an
// OOM capture was taken must not lose it.
FlightRecorder::~FlightRecorder() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void FlightRecorder::start_oom_watch() {
  if (!eo_.capture_on_oom) return;
  try {
    oom_ = std::make_unique<OomWatch>();
  } catch (const Error& e) {
    std::cerr << "slableak: no OOM trigger: " << e.what() << " (the other capture triggers still work)" << std::endl;
  }
}

std::optional<PendingCapture> FlightRecorder::poll() {
  if (oom_) {
    auto victims = oom_->drain();
    if (oom_->lost() != oom_lost_reported_) {
      std::cerr << "slableak: " << oom_->lost() - oom_lost_reported_ << " OOM events lost (ring buffer full)" << std::endl;
      oom_lost_reported_ = oom_->lost();
    }
    if (!victims.empty()) {
      PendingCapture p;
      p.trigger = CaptureTrigger::oom;
      p.noticed = Clock::now();
      const OomVictim& v = victims.front();
      p.victim = v;
      p.reason = "OOM killer marked pid " + std::to_string(v.pid) + " (" + (v.comm.empty() ? "?" : v.comm) + ")";
      if (!v.cgroup.empty()) p.reason += " in cgroup " + v.cgroup;
      if (victims.size() > 1) p.reason += ", and " + std::to_string(victims.size() - 1) + " more victims";
      take_capture_request();  // one capture answers both
      return p;
    }
  }
  if (take_capture_request()) {
    PendingCapture p;
    p.trigger = CaptureTrigger::signal;
    p.noticed = Clock::now();
    p.reason = "SIGUSR1";
    return p;
  }
  return std::nullopt;
}

std::optional<PendingCapture> FlightRecorder::judge(const Snapshot& s, double monotonic_s) {
  std::optional<PendingCapture> out;
  const auto fire = [&](CaptureTrigger t, std::string reason) {
    if (out) return;  // one capture per collection; the first trigger names it
    out = PendingCapture{t, std::move(reason), std::nullopt, Clock::now()};
  };
  if (sunreclaim_ || growth_) {
    int64_t sunreclaim = -1;
    try {
      sunreclaim = meminfo_bytes(read_text_file("/proc/meminfo", kMaxMeminfoBytes), "SUnreclaim");
    } catch (const Error&) {
    }
    if (sunreclaim >= 0) {
      const double v = static_cast<double>(sunreclaim);
      if (sunreclaim_ && sunreclaim_->update(v)) {
        std::string r = "SUnreclaim " + format_bytes(v) + " >= " + format_bytes(static_cast<double>(sunreclaim_at_));
        if (mem_total_) r += " (" + percent(v / static_cast<double>(mem_total_)) + " of MemTotal)";
        fire(CaptureTrigger::sunreclaim, r);
      }
      if (growth_ && growth_->update(monotonic_s, v))
        fire(CaptureTrigger::growth, "SUnreclaim grew by " + format_bytes(*growth_->growth()) + " within " +
                                         format_duration(eo_.capture_growth->window_s) + " (trigger at " +
                                         format_bytes(static_cast<double>(eo_.capture_growth->bytes)) + ")");
    }
  }
  if (leaking_) {
    const std::string first = leaking_->update(s);
    if (!first.empty()) fire(CaptureTrigger::leaking, "first judged leaking: " + first);
  }
  return out;
}

void FlightRecorder::write(const Snapshot& taken, const PendingCapture& p, const ExpositionInfo& info) {
  Snapshot report = taken;
  sort_stacks(report.stacks, SortKey::verdict);
  Job job;
  CaptureSummary& sum = job.summary;
  sum.unix_time = report.unix_time;
  sum.name = capture_name(report.unix_time, p.trigger);
  sum.trigger = p.trigger;
  sum.reason = p.reason;
  sum.victim = p.victim;
  sum.collect_ms = ms_since(p.noticed);
  // The report's time on CLOCK_MONOTONIC, the clock of the OOM event.
  sum.monotonic_s = report.unix_time - (clock_s(CLOCK_REALTIME) - clock_s(CLOCK_MONOTONIC));
  summarize_capture(report, &sum);
  job.files = capture_files(report, render_prometheus(report, info));
  for (const auto& f : job.files) sum.files.push_back(f.name);
  sum.files.push_back("capture.json");
  job.files.push_back({"capture.json", render_capture_manifest(sum)});
  job.noticed = p.noticed;
  std::string dropped;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (queue_.size() >= kMaxQueued) {
      std::vector<CaptureTrigger> waiting;
      for (const auto& j : queue_) waiting.push_back(j.summary.trigger);
      const auto victim = queue_.begin() + static_cast<std::ptrdiff_t>(*waiting_capture_to_drop(waiting));
      dropped = victim->summary.name;
      queue_.erase(victim);
      ++errors_;
    }
    queue_.push_back(std::move(job));
  }
  cv_.notify_all();
  if (!dropped.empty())
    std::cerr << "slableak: capture " << dropped << " dropped: " << kMaxQueued
              << " captures were waiting for the disk" << std::endl;
}

void FlightRecorder::count_into(ExpositionInfo* info) const {
  for (size_t t = 0; t < written_.size(); ++t) info->captures_total[t] = written_[t].load();
  info->capture_errors = errors_.load();
  info->last_capture_unix = last_unix_.load();
}

void FlightRecorder::drain() {
  std::unique_lock<std::mutex> g(mu_);
  cv_.wait(g, [this] { return queue_.empty() && !busy_; });
}

void FlightRecorder::run_writer() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> g(mu_);
      cv_.wait(g, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_, and nothing left to write
      job = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    store_one(job);
    {
      std::lock_guard<std::mutex> g(mu_);
      busy_ = false;
    }
    cv_.notify_all();
  }
}

void FlightRecorder::store_one(const Job& job) {
  const CaptureSummary& sum = job.summary;
  std::string err;
  uint64_t bytes = 0;
  for (const auto& f : job.files) bytes += f.content.size();
  const auto now = RepeatedFailure::Clock::now();
  if (store_.write(sum.name, job.files, &err)) {
    ++written_[static_cast<size_t>(sum.trigger)];
    last_unix_ = sum.unix_time;
    // Each line in one write: the loop logs from another thread.
    say("capture " + store_.dir() + "/" + sum.name + " (" + sum.reason + "): " +
        format_bytes(static_cast<double>(bytes)) + " written " + std::to_string(static_cast<long>(ms_since(job.noticed))) +
        " ms after the trigger");
    if (const std::string line = failures_.succeeded(now); !line.empty()) say("captures written again: " + line);
  } else {
    ++errors_;
    if (const std::string line = failures_.failed(err, now); !line.empty()) say(line);
  }
}

}  // namespace slableak
