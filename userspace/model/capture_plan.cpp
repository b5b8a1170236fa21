#include "capture_plan.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "error.h"
#include "printable.h"
#include "units.h"

namespace slableak {

const char* capture_trigger_name(CaptureTrigger t) {
  switch (t) {
    case CaptureTrigger::signal: return "sigusr1";
    case CaptureTrigger::oom: return "oom";
    case CaptureTrigger::sunreclaim: return "sunreclaim";
    case CaptureTrigger::growth: return "growth";
    case CaptureTrigger::leaking: return "leaking";
  }
  return "?";
}

std::optional<CaptureTrigger> parse_capture_trigger(std::string_view name) {
  for (CaptureTrigger t : kCaptureTriggers)
    if (name == capture_trigger_name(t)) return t;
  return std::nullopt;
}

std::string capture_name(double unix_time, CaptureTrigger t) {
  if (!(unix_time >= 0)) unix_time = 0;
  const auto whole = static_cast<time_t>(std::floor(unix_time));
  int ms = static_cast<int>(std::floor((unix_time - static_cast<double>(whole)) * 1000));
  ms = std::clamp(ms, 0, 999);
  tm u{};
  gmtime_r(&whole, &u);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d.%03dZ-%s", u.tm_year + 1900, u.tm_mon + 1, u.tm_mday,
                u.tm_hour, u.tm_min, u.tm_sec, ms, capture_trigger_name(t));
  return buf;
}

std::optional<CaptureName> parse_capture_name(std::string_view name) {
  // 8 digits, 'T', 6 digits, '.', 3 digits, "Z-", trigger
  constexpr size_t kStamp = 8 + 1 + 6 + 1 + 3 + 2;
  if (name.size() <= kStamp) return std::nullopt;
  const auto digits = [&](size_t from, size_t n) {
    int v = 0;
    for (size_t i = from; i < from + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(name[i]))) return -1;
      v = v * 10 + (name[i] - '0');
    }
    return v;
  };
  if (name[8] != 'T' || name[15] != '.' || name[19] != 'Z' || name[20] != '-') return std::nullopt;
  const int year = digits(0, 4), mon = digits(4, 2), day = digits(6, 2), hour = digits(9, 2), min = digits(11, 2),
            sec = digits(13, 2), ms = digits(16, 3);
  if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || min < 0 || min > 59 ||
      sec < 0 || sec > 60 || ms < 0)
    return std::nullopt;
  const auto trigger = parse_capture_trigger(name.substr(kStamp));
  if (!trigger) return std::nullopt;
  tm u{};
  u.tm_year = year - 1900;
  u.tm_mon = mon - 1;
  u.tm_mday = day;
  u.tm_hour = hour;
  u.tm_min = min;
  u.tm_sec = sec;
  CaptureName out;
  out.unix_time = static_cast<double>(timegm(&u)) + ms / 1000.0;
  out.trigger = *trigger;
  return out;
}

std::optional<size_t> waiting_capture_to_drop(const std::vector<CaptureTrigger>& waiting) {
  if (waiting.empty()) return std::nullopt;
  for (size_t i = 0; i < waiting.size(); ++i)
    if (waiting[i] != CaptureTrigger::oom) return i;
  return 0;
}

std::vector<std::string> captures_to_remove(std::vector<StoredCapture> stored, size_t keep, uint64_t max_bytes) {
  std::erase_if(stored, [](const StoredCapture& c) { return !parse_capture_name(c.name); });
  // Oldest first: the names sort in time order.
  std::sort(stored.begin(), stored.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  uint64_t total = 0;
  for (const auto& c : stored) total += c.bytes;
  // The newest stays. The newest OOM capture goes last: later captures
  // (SIGUSR1, a leaking verdict every few minutes) must not push out the
  // evidence of the night the box died before anyone read it.
  std::vector<size_t> order;
  size_t newest_oom = stored.size();
  for (size_t i = 0; i + 1 < stored.size(); ++i)
    if (parse_capture_name(stored[i].name)->trigger == CaptureTrigger::oom) newest_oom = i;
  for (size_t i = 0; i + 1 < stored.size(); ++i)
    if (i != newest_oom) order.push_back(i);
  if (newest_oom < stored.size()) order.push_back(newest_oom);
  std::vector<std::string> out;
  size_t left = stored.size();
  for (const size_t i : order) {
    if (left <= keep && total <= max_bytes) break;
    out.push_back(stored[i].name);
    total -= stored[i].bytes;
    --left;
  }
  return out;
}

bool LevelTrigger::update(double value) {
  if (armed_ && value >= fire_at_) {
    armed_ = false;
    return true;
  }
  if (!armed_ && value < rearm_below_) armed_ = true;
  return false;
}

GrowthTrigger::GrowthTrigger(double bytes, double window_s)
    : window_s_(window_s), level_(bytes, bytes / 2), samples_(kMaxSamples) {}

bool GrowthTrigger::update(double t_s, double value) {
  // Samples closer together than window/(kMaxSamples-1) are not kept, so the
  // fixed ring always spans the whole window: a window longer than
  // kMaxSamples intervals (6 h at the default 15 s) still finds its base.
  // The base is then at most one such step older than the window's start.
  const double step = window_s_ / static_cast<double>(kMaxSamples - 1);
  if (samples_.empty() || t_s - samples_.back().first >= step) samples_.push_back({t_s, value});
  // The oldest sample still at or before the window's start is the base;
  // older ones go.
  while (samples_.size() >= 2 && samples_[1].first <= t_s - window_s_) samples_.pop_front();
  const auto& base = samples_.front();
  if (t_s - base.first < window_s_) {
    growth_.reset();
    return false;
  }
  growth_ = value - base.second;
  return level_.update(*growth_);
}

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

std::optional<uint64_t> size_of(std::string_view text) {
  size_t n = 0;
  while (n < text.size() && std::isdigit(static_cast<unsigned char>(text[n]))) ++n;
  if (n == 0 || n > 15) return std::nullopt;
  const uint64_t number = std::stoull(std::string(text.substr(0, n)));
  std::string unit(text.substr(n));
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (unit.size() == 2 && (unit[1] == 'i' || unit[1] == 'I')) unit.pop_back();
  int shift = 0;
  if (unit.empty()) shift = 0;
  else if (unit.size() == 1) {
    switch (std::toupper(static_cast<unsigned char>(unit[0]))) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      case 'T': shift = 40; break;
      default: return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  if (shift && number > (UINT64_MAX >> shift)) return std::nullopt;
  return number << shift;
}

}  // namespace

uint64_t parse_size(std::string_view text, std::string_view what) {
  const auto v = size_of(text);
  if (!v || *v == 0)
    throw usage_error("bad " + std::string(what) + " '" + printable(std::string(text)) +
                      "': use a size in bytes such as 256M, 2G or 1048576");
  return *v;
}

SizeOrShare parse_size_or_share(std::string_view text, std::string_view what) {
  SizeOrShare out;
  if (!text.empty() && text.back() == '%') {
    const std::string_view n = text.substr(0, text.size() - 1);
    const auto dot = n.find('.');
    const bool ok = dot == std::string_view::npos ? all_digits(n)
                                                  : all_digits(n.substr(0, dot)) && all_digits(n.substr(dot + 1));
    const double pct = ok && n.size() < 12 ? std::stod(std::string(n)) : -1;
    if (!(pct > 0 && pct <= 100))
      throw usage_error("bad " + std::string(what) + " '" + printable(std::string(text)) +
                        "': use a share of MemTotal from 1% to 100% (e.g. 30%) or a size such as 2G");
    out.share = pct / 100;
    return out;
  }
  const auto v = size_of(text);
  if (!v || *v == 0)
    throw usage_error("bad " + std::string(what) + " '" + printable(std::string(text)) +
                      "': use a share of MemTotal such as 30% or a size such as 2G");
  out.bytes = *v;
  return out;
}

GrowthRule parse_growth_rule(std::string_view text, std::string_view what) {
  const auto slash = text.find('/');
  const auto bad = [&] {
    return usage_error("bad " + std::string(what) + " '" + printable(std::string(text)) +
                       "': use BYTES/WINDOW, e.g. 512M/10m (SUnreclaim grew by 512 MiB within 10 minutes)");
  };
  if (slash == std::string_view::npos) throw bad();
  const auto bytes = size_of(text.substr(0, slash));
  if (!bytes || *bytes == 0) throw bad();
  GrowthRule r;
  r.bytes = *bytes;
  try {
    r.window_s = std::chrono::duration<double>(parse_duration(text.substr(slash + 1), what)).count();
  } catch (const Error&) {
    throw bad();
  }
  if (!(r.window_s > 0) || r.window_s > 86400) throw bad();
  return r;
}

std::string LeakingTrigger::update(const Snapshot& s) {
  std::string first;
  for (const auto& st : s.stacks) {
    if (st.verdict != Verdict::leaking) continue;
    std::string key = st.cache + " " + st.stack_id;
    if (!seen_.insert(key).second) continue;
    order_.push_back(key);
    if (first.empty()) first = key;
  }
  if (seen_.size() > kMaxRemembered) {
    const size_t drop = order_.size() / 2;
    for (size_t i = 0; i < drop; ++i) seen_.erase(order_[i]);
    order_.erase(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(drop));
  }
  return first;
}

int64_t meminfo_bytes(std::string_view meminfo, std::string_view key) {
  size_t pos = 0;
  while (pos < meminfo.size()) {
    size_t end = meminfo.find('\n', pos);
    if (end == std::string_view::npos) end = meminfo.size();
    const std::string_view line = meminfo.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') continue;
    size_t i = key.size() + 1;
    while (i < line.size() && line[i] == ' ') ++i;
    int64_t v = 0;
    size_t digits = 0;
    while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])) && digits < 18) {
      v = v * 10 + (line[i++] - '0');
      ++digits;
    }
    if (digits == 0) return -1;
    return line.substr(i).find("kB") != std::string_view::npos ? v * 1024 : v;
  }
  return -1;
}

void summarize_capture(const Snapshot& s, CaptureSummary* out) {
  const StackReport* top = nullptr;
  for (const auto& st : s.stacks) {
    if (st.objects <= 0) continue;
    const bool leak = st.verdict == Verdict::leaking;
    if (!top || (leak && top->verdict != Verdict::leaking) ||
        (leak == (top->verdict == Verdict::leaking) && st.bytes > top->bytes))
      top = &st;
  }
  out->total_bytes = 0;
  for (const auto& c : s.caches) out->total_bytes += c.attributed_bytes;
  if (!top) return;
  out->top_cache = top->cache;
  out->top_stack_id = top->stack_id;
  out->top_frame = top->functions.empty() ? "" : top->functions.front();
  out->top_verdict = verdict_name(top->verdict);
  out->top_bytes = top->bytes;
}

std::optional<double> oom_to_report_ms(const CaptureSummary& c) {
  if (!c.victim || c.victim->monotonic_s <= 0 || c.monotonic_s <= 0) return std::nullopt;
  return (c.monotonic_s - c.victim->monotonic_s) * 1000.0;
}

}  // namespace slableak
