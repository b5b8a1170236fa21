#include "diff_output.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "units.h"

namespace slableak {
namespace {

std::string signed_count(int64_t v) { return (v > 0 ? "+" : "") + std::to_string(v); }

std::string signed_bytes(int64_t v) {
  if (v == 0) return "0 B";
  return (v > 0 ? "+" : "-") + format_bytes(static_cast<double>(v > 0 ? v : -v));
}

std::string utc(double unix_time) {
  if (unix_time <= 0) return "time unknown";
  const std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  char buf[32];
  if (!gmtime_r(&t, &tm) || !std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm)) return "time unknown";
  return buf;
}

std::string side_line(const RecordedReport& r) {
  return r.source + " (" + utc(r.time) + ", " + format_duration(r.elapsed_s) + " traced" +
         (r.method.empty() ? "" : ", " + r.method) + ")";
}

std::string ids(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "-" : out;
}

nlohmann::json side_json(const RecordedReport& r) {
  nlohmann::json j = {{"file", r.source},
                      {"time", r.time},
                      {"elapsed_seconds", r.elapsed_s},
                      {"cache_method", r.method},
                      {"sample_every", r.sample_every},
                      {"stacks_listed", r.stacks.size()}};
  if (r.stacks_total) j["stacks_total"] = *r.stacks_total;
  return j;
}

}  // namespace

void write_diff_table(std::ostream& os, const RecordedReport& before, const RecordedReport& after,
                      const ReportDiff& d, size_t top) {
  os << "slableak diff\n  BEFORE " << side_line(before) << "\n  AFTER  " << side_line(after) << "\n";
  if (!before.by.empty()) os << "  stacks grouped by " << before.by << "\n";
  os << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-22s %14s %14s %10s %14s\n", "CACHE", "OBJECTS-BEFORE", "OBJECTS-AFTER",
                "DELTA", "BYTES-DELTA");
  os << line;
  for (const auto& c : d.caches) {
    if (!(c.in_before && c.in_after)) continue;
    std::snprintf(line, sizeof line, "%-22s %14lld %14lld %10s %14s\n", c.name.c_str(),
                  static_cast<long long>(c.objects_before), static_cast<long long>(c.objects_after),
                  signed_count(c.objects_after - c.objects_before).c_str(),
                  signed_bytes(c.bytes_after - c.bytes_before).c_str());
    os << line;
  }
  os << "\nstacks: " << d.count(Change::appeared) << " appeared, " << d.count(Change::disappeared)
     << " disappeared, " << d.count(Change::grew) << " grew, " << d.count(Change::shrank) << " shrank, "
     << d.count(Change::unchanged) << " unchanged\n";
  size_t n = 0;
  for (const auto& r : d.rows) {
    if (r.change == Change::unchanged) break;  // sorted last
    if (top && n >= top) {
      os << "... " << (d.rows.size() - d.count(Change::unchanged) - n) << " more changed (--top 0 lists all)\n";
      break;
    }
    ++n;
    os << "#" << n << " " << change_name(r.change) << "  " << r.cache;
    if (!r.task.empty()) os << "  " << before.by << " " << r.task;
    os << "  objects " << r.objects_before << " -> " << r.objects_after << " (" << signed_count(r.objects_delta())
       << ")  bytes " << format_bytes(static_cast<double>(r.bytes_before)) << " -> "
       << format_bytes(static_cast<double>(r.bytes_after)) << " (" << signed_bytes(r.bytes_delta()) << ")";
    if (!r.verdict_before.empty() || !r.verdict_after.empty())
      os << "  verdict " << (r.verdict_before.empty() ? "-" : r.verdict_before) << " -> "
         << (r.verdict_after.empty() ? "-" : r.verdict_after);
    if (r.matched_by == MatchedBy::functions)
      os << "  matched by functions (ids " << ids(r.ids_before) << " -> " << ids(r.ids_after) << ")";
    else
      os << "  id " << ids(r.ids_after.empty() ? r.ids_before : r.ids_after);
    os << "\n";
    for (const auto& f : r.frames) os << "    " << f << "\n";
  }
  if (n == 0) os << "no stack changed\n";
  if (!d.notes.empty()) os << "\n";
  for (const auto& note : d.notes) os << "note: " << note << "\n";
}

void write_diff_json(std::ostream& os, const RecordedReport& before, const RecordedReport& after,
                     const ReportDiff& d, size_t top) {
  using nlohmann::json;
  json j;
  j["diff_schema_version"] = kDiffSchemaVersion;
  j["diff"] = true;
  j["report_schema_version"] = before.schema_version;
  j["before"] = side_json(before);
  j["after"] = side_json(after);
  if (!before.by.empty()) j["by"] = before.by;
  j["caches"] = json::array();
  for (const auto& c : d.caches)
    j["caches"].push_back({{"name", c.name},
                           {"in_before", c.in_before},
                           {"in_after", c.in_after},
                           {"objects_before", c.objects_before},
                           {"objects_after", c.objects_after},
                           {"objects_delta", c.objects_after - c.objects_before},
                           {"bytes_before", c.bytes_before},
                           {"bytes_after", c.bytes_after},
                           {"bytes_delta", c.bytes_after - c.bytes_before}});
  json counts = json::object();
  for (Change c : {Change::appeared, Change::disappeared, Change::grew, Change::shrank, Change::unchanged})
    counts[change_name(c)] = d.count(c);
  j["counts"] = counts;
  j["stacks"] = json::array();
  size_t n = 0;
  for (const auto& r : d.rows) {
    if (top && n >= top) break;
    ++n;
    json s = {{"change", change_name(r.change)},
              {"matched_by", matched_by_name(r.matched_by)},
              {"cache", r.cache},
              {"stack_ids_before", r.ids_before},
              {"stack_ids_after", r.ids_after},
              {"objects_before", r.objects_before},
              {"objects_after", r.objects_after},
              {"objects_delta", r.objects_delta()},
              {"bytes_before", r.bytes_before},
              {"bytes_after", r.bytes_after},
              {"bytes_delta", r.bytes_delta()},
              {"verdict_before", r.verdict_before},
              {"verdict_after", r.verdict_after},
              {"frames", r.frames}};
    if (!before.by.empty()) s["task"] = r.task;
    j["stacks"].push_back(std::move(s));
  }
  j["stacks_total"] = d.rows.size();
  j["notes"] = d.notes;
  os << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

}  // namespace slableak
