#include "report_reader.h"

#include <nlohmann/json.hpp>

#include "error.h"
#include "printable.h"

namespace slableak {
namespace {

using nlohmann::json;

const char* const kHowToWrite = "write one with 'slableak snapshot --format json'";

[[noreturn]] void not_a_report(const std::string& source, const std::string& why) {
  throw usage_error(source + " is not a slableak JSON report (" + why + "): " + kHowToWrite);
}

const json& field(const json& obj, const char* name, json::value_t type, const std::string& source,
                  const std::string& where) {
  const auto it = obj.find(name);
  const bool number = type == json::value_t::number_integer || type == json::value_t::number_float;
  if (it == obj.end() || (number ? !it->is_number() : it->type() != type))
    not_a_report(source, where + " has no " + (number ? "numeric " : "") + "'" + name + "'");
  return *it;
}

int64_t integer(const json& obj, const char* name, const std::string& source, const std::string& where) {
  const json& v = field(obj, name, json::value_t::number_integer, source, where);
  if (!v.is_number_integer()) not_a_report(source, where + " '" + name + "' is not a whole number");
  return v.get<int64_t>();
}

std::string text(const json& obj, const char* name, const std::string& source, const std::string& where) {
  return field(obj, name, json::value_t::string, source, where).get<std::string>();
}

}  // namespace

RecordedReport read_report_json(std::string_view input, const std::string& source_in) {
  const std::string source = printable(source_in, 120);
  json j;
  try {
    j = json::parse(input.begin(), input.end());
  } catch (const json::parse_error& e) {
    not_a_report(source, "not JSON, or more than one document: byte " + std::to_string(e.byte));
  }
  if (!j.is_object()) not_a_report(source, "not a JSON object");
  if (j.contains("diff")) throw usage_error(source + " is the output of 'slableak diff', not a report: " + kHowToWrite);
  const auto version = j.find("schema_version");
  if (version == j.end() || !version->is_number_integer()) not_a_report(source, "no schema_version");
  RecordedReport r;
  r.source = source;
  r.schema_version = version->get<int>();
  if (r.schema_version != kReportSchemaVersion) return r;  // diff_reports names both versions

  const auto stacks = j.find("stacks");
  const auto caches = j.find("caches");
  if (stacks == j.end() || !stacks->is_array()) not_a_report(source, "no 'stacks' array");
  if (caches == j.end() || !caches->is_array()) not_a_report(source, "no 'caches' array");
  if (j.contains("time") && j["time"].is_number()) r.time = j["time"].get<double>();
  if (j.contains("elapsed_seconds") && j["elapsed_seconds"].is_number())
    r.elapsed_s = j["elapsed_seconds"].get<double>();
  if (j.contains("cache_method") && j["cache_method"].is_string()) r.method = j["cache_method"].get<std::string>();
  if (j.contains("by") && j["by"].is_string()) r.by = j["by"].get<std::string>();
  if (j.contains("sample_every") && j["sample_every"].is_number_unsigned())
    r.sample_every = j["sample_every"].get<uint32_t>();
  if (j.contains("stacks_total") && j["stacks_total"].is_number_unsigned())
    r.stacks_total = j["stacks_total"].get<uint64_t>();

  for (size_t i = 0; i < caches->size(); ++i) {
    const json& c = (*caches)[i];
    const std::string where = "caches[" + std::to_string(i) + "]";
    if (!c.is_object()) not_a_report(source, where + " is not an object");
    RecordedCache rc;
    rc.name = text(c, "name", source, where);
    rc.objects = integer(c, "attributed_objects", source, where);
    rc.bytes = integer(c, "attributed_bytes", source, where);
    r.caches.push_back(std::move(rc));
  }
  for (size_t i = 0; i < stacks->size(); ++i) {
    const json& s = (*stacks)[i];
    const std::string where = "stacks[" + std::to_string(i) + "]";
    if (!s.is_object()) not_a_report(source, where + " is not an object");
    RecordedStack st;
    st.cache = text(s, "cache", source, where);
    st.stack_id = text(s, "stack_id", source, where);
    st.objects = integer(s, "objects", source, where);
    st.bytes = integer(s, "bytes", source, where);
    const json& frames = field(s, "frames", json::value_t::array, source, where);
    for (const auto& f : frames) {
      if (!f.is_string()) not_a_report(source, where + " has a frame that is not a string");
      st.frames.push_back(f.get<std::string>());
    }
    if (s.contains("verdict") && s["verdict"].is_string()) st.verdict = s["verdict"].get<std::string>();
    if (!r.by.empty()) st.task = text(s, "task", source, where);
    r.stacks.push_back(std::move(st));
  }
  return r;
}

}  // namespace slableak
