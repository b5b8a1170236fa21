#include "capture_manifest.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iomanip>

#include "error.h"
#include "printable.h"
#include "units.h"

namespace slableak {

std::string render_capture_manifest(const CaptureSummary& c) {
  nlohmann::ordered_json j;
  j["capture_version"] = kCaptureManifestVersion;
  j["name"] = c.name;
  j["unix_time"] = c.unix_time;
  j["monotonic_s"] = c.monotonic_s;
  j["trigger"] = capture_trigger_name(c.trigger);
  j["reason"] = c.reason;
  if (c.victim) {
    j["victim"] = {{"pid", c.victim->pid},
                   {"comm", c.victim->comm},
                   {"cgroup", c.victim->cgroup},
                   {"unix_time", c.victim->unix_time},
                   {"monotonic_s", c.victim->monotonic_s}};
  } else {
    j["victim"] = nullptr;
  }
  j["top"] = {{"cache", c.top_cache},     {"stack_id", c.top_stack_id}, {"top_frame", c.top_frame},
              {"verdict", c.top_verdict}, {"bytes", c.top_bytes}};
  j["attributed_bytes"] = c.total_bytes;
  j["collect_ms"] = c.collect_ms;
  if (const auto d = oom_to_report_ms(c))
    j["oom_to_report_ms"] = *d;
  else
    j["oom_to_report_ms"] = nullptr;
  j["files"] = c.files;
  // Names come from the kernel and the host (a comm cut mid-character, any
  // bytes a process named itself): never a reason to lose the capture.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

CaptureSummary read_capture_manifest(const std::string& text, const std::string& what) {
  CaptureSummary c;
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.at("capture_version").get<int>() != kCaptureManifestVersion)
      throw runtime_error(what + ": capture_version " + j.at("capture_version").dump() + " is not " +
                          std::to_string(kCaptureManifestVersion) + ": read it with the slableak that wrote it");
    c.name = j.at("name").get<std::string>();
    c.unix_time = j.at("unix_time").get<double>();
    c.monotonic_s = j.value("monotonic_s", 0.0);
    const auto t = parse_capture_trigger(j.at("trigger").get<std::string>());
    if (!t) throw runtime_error(what + ": unknown trigger " + j.at("trigger").dump());
    c.trigger = *t;
    c.reason = j.at("reason").get<std::string>();
    if (!j.at("victim").is_null()) {
      const auto& v = j.at("victim");
      OomVictim o;
      o.pid = v.at("pid").get<int32_t>();
      o.comm = v.at("comm").get<std::string>();
      o.cgroup = v.at("cgroup").get<std::string>();
      o.unix_time = v.at("unix_time").get<double>();
      o.monotonic_s = v.value("monotonic_s", 0.0);
      c.victim = o;
    }
    const auto& top = j.at("top");
    c.top_cache = top.at("cache").get<std::string>();
    c.top_stack_id = top.at("stack_id").get<std::string>();
    c.top_frame = top.at("top_frame").get<std::string>();
    c.top_verdict = top.at("verdict").get<std::string>();
    c.top_bytes = top.at("bytes").get<int64_t>();
    c.total_bytes = j.at("attributed_bytes").get<int64_t>();
    c.collect_ms = j.at("collect_ms").get<double>();
    c.files = j.at("files").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw runtime_error(what + ": not a capture manifest (" + e.what() + ")");
  }
  return c;
}

namespace {

std::string utc(double t) {
  const auto whole = static_cast<time_t>(t);
  tm u{};
  gmtime_r(&whole, &u);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &u);
  return buf;
}

// "21:14:05.123" (UTC), for times within a capture's second.
std::string utc_ms(double t) {
  const auto whole = static_cast<time_t>(t);
  tm u{};
  gmtime_r(&whole, &u);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &u);
  const int ms = std::clamp(static_cast<int>((t - static_cast<double>(whole)) * 1000.0), 0, 999);
  char out[40];
  std::snprintf(out, sizeof out, "%s.%03d", buf, ms);
  return out;
}

}  // namespace

void write_captures_table(std::ostream& os, const std::string& dir, const std::vector<CaptureSummary>& captures) {
  os << captures.size() << (captures.size() == 1 ? " capture" : " captures") << " in " << dir << "\n";
  if (captures.empty()) return;
  os << std::left << std::setw(20) << "TIME (UTC)" << "  " << std::setw(10) << "TRIGGER" << "  " << std::setw(12)
     << "CACHE" << "  " << std::right << std::setw(10) << "BYTES" << "  " << std::left << std::setw(8) << "VERDICT"
     << "  TOP STACK (innermost frame)  / CAPTURE\n";
  for (const auto& c : captures) {
    os << std::left << std::setw(20) << utc(c.unix_time) << "  " << std::setw(10) << capture_trigger_name(c.trigger)
       << "  " << std::setw(12) << (c.top_cache.empty() ? "-" : c.top_cache) << "  " << std::right << std::setw(10)
       << (c.top_cache.empty() ? std::string("-") : format_bytes(static_cast<double>(c.top_bytes))) << "  " << std::left
       << std::setw(8) << (c.top_verdict.empty() ? "-" : c.top_verdict) << "  "
       << (c.top_frame.empty() ? "-" : printable(c.top_frame, 200)) << "  / " << printable(c.name, 200) << "\n";
    // Read from files on disk: escaped, so a name cannot drive the terminal.
    if (c.victim) {
      os << "    OOM victim: pid " << c.victim->pid << " ("
         << (c.victim->comm.empty() ? "?" : printable(c.victim->comm, 64)) << ") in cgroup "
         << (c.victim->cgroup.empty() ? "?" : printable(c.victim->cgroup, 200));
      if (c.victim->monotonic_s > 0) os << ", marked at " << utc_ms(c.victim->unix_time) << " UTC";
      if (const auto d = oom_to_report_ms(c)) os << ", report taken " << static_cast<long>(std::lround(*d)) << " ms later";
      os << "\n";
    }
    if (!c.reason.empty()) os << "    " << printable(c.reason, 300) << "\n";
    if (std::find(c.files.begin(), c.files.end(), "profile.pb.gz") != c.files.end())
      os << "    profile: " << dir << "/" << c.name << "/profile.pb.gz\n";
  }
}

}  // namespace slableak
