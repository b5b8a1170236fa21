#include "units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "error.h"
#include "printable.h"

namespace slableak {
namespace {

bool read_number(std::string_view& s, double& out) {
  size_t i = 0;
  bool dot = false;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || (s[i] == '.' && !dot))) {
    if (s[i] == '.') dot = true;
    ++i;
  }
  if (i == 0 || (i == 1 && dot)) return false;
  try {
    out = std::stod(std::string(s.substr(0, i)));
  } catch (const std::out_of_range&) {  // 1e400 or 1e-400 written out: not a duration
    return false;
  }
  s.remove_prefix(i);
  return true;
}

}  // namespace

std::chrono::nanoseconds parse_duration(std::string_view text, std::string_view what) {
  auto bad = [&] {
    return usage_error("bad " + std::string(what) + " '" + printable(text) +
                       "': use a positive number with a unit, e.g. 500ms, 30s, 5m, 1h");
  };
  std::string_view s = text;
  if (s.empty()) throw bad();
  double total_s = 0;
  bool any = false;
  while (!s.empty()) {
    double v;
    if (!read_number(s, v)) throw bad();
    double unit = 1;  // bare number: seconds, but only as the whole text
    if (s.rfind("ms", 0) == 0) { unit = 1e-3; s.remove_prefix(2); }
    else if (s.rfind("us", 0) == 0) { unit = 1e-6; s.remove_prefix(2); }
    else if (s.rfind("ns", 0) == 0) { unit = 1e-9; s.remove_prefix(2); }
    else if (!s.empty() && s[0] == 's') { unit = 1; s.remove_prefix(1); }
    else if (!s.empty() && s[0] == 'm') { unit = 60; s.remove_prefix(1); }
    else if (!s.empty() && s[0] == 'h') { unit = 3600; s.remove_prefix(1); }
    else if (!s.empty() && s[0] == 'd') { unit = 86400; s.remove_prefix(1); }
    else if (!s.empty() || any) throw bad();
    total_s += v * unit;
    any = true;
  }
  if (total_s > 365.0 * 86400)
    throw usage_error("bad " + std::string(what) + " '" + printable(text) + "': at most 365d");
  if (!(total_s > 0)) throw bad();
  const auto ns = static_cast<int64_t>(std::llround(total_s * 1e9));
  if (ns <= 0) throw bad();  // "0.1ns" rounds to nothing
  return std::chrono::nanoseconds(ns);
}

uint64_t parse_count(std::string_view text, std::string_view what) {
  auto bad = [&] {
    return usage_error("bad " + std::string(what) + " '" + printable(text) +
                       "': use a whole number, optionally with k, M or G (e.g. 1M)");
  };
  std::string_view s = text;
  uint64_t v = 0;
  size_t i = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
    const auto digit = static_cast<uint64_t>(s[i] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) throw bad();
    v = v * 10 + digit;
  }
  if (i == 0) throw bad();
  s.remove_prefix(i);
  uint64_t mul = 1;
  if (s == "k" || s == "K") mul = 1000;
  else if (s == "M") mul = 1000000;
  else if (s == "G") mul = 1000000000;
  else if (!s.empty()) throw bad();
  if (v > std::numeric_limits<uint64_t>::max() / mul) throw bad();
  return v * mul;
}

std::string format_duration(double seconds) {
  char buf[32];
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e15) return "-";
  if (seconds < 0.9995) {  // what would print as "1000ms" is "1s"
    std::snprintf(buf, sizeof buf, "%.0fms", seconds * 1e3);
  } else if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.0fs", std::floor(seconds));
  } else if (seconds < 3600) {
    auto s = static_cast<long>(seconds);
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else if (seconds < 86400) {
    auto m = static_cast<long>(seconds / 60);
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", m / 60, m % 60);
  } else {
    auto h = static_cast<long>(seconds / 3600);
    std::snprintf(buf, sizeof buf, "%ldd%02ldh", h / 24, h % 24);
  }
  return buf;
}

std::string format_bytes(double bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  char buf[32];
  double v = bytes;
  int u = 0;
  while (std::fabs(v) >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%.0f %s", v, units[u]);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace slableak
