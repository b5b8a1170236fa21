#include "report_reader.h"

#include <nlohmann/json.hpp>

#include "error.h"
#include "printable.h"

namespace slableak {
namespace {

using nlohmann::json;

const char* const kHowToWrite = "write one with 'slableak snapshot --format json'";

// A count above 2^53 is in no report (and no double holds it exactly); the
// stacks of one report add up to at most that too, so sums and deltas of
// two reports cannot overflow.
constexpr uint64_t kMaxCount = uint64_t{1} << 53;
// A report nests 4 deep (report, stacks, stack, frames). Deeper text is
// refused before a tree is built of it: the tree of "[[[[..." costs about
// 40 times the file.
constexpr size_t kMaxDepth = 16;
// Longest string kept from a report: frames with a module and an address
// are well under it; a cgroup path of --by is cut at 200 when written.
constexpr size_t kMaxText = 512;

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
  if (!v.is_number_unsigned() || v.get<uint64_t>() > kMaxCount)
    not_a_report(source, where + " '" + name + "' is out of range (0 to 2^53)");
  return static_cast<int64_t>(v.get<uint64_t>());
}

// Every string of a report reaches a terminal or another program: escaped
// here, once, so no output of diff can carry a control byte from the file.
std::string safe(const std::string& s) { return printable(s, kMaxText); }

std::string text(const json& obj, const char* name, const std::string& source, const std::string& where) {
  return safe(field(obj, name, json::value_t::string, source, where).get<std::string>());
}

// Adds @v to a report-wide @total, refusing a report whose stacks hold more
// than any report can.
void add_up(uint64_t& total, int64_t v, const char* what, const std::string& source) {
  total += static_cast<uint64_t>(v);  // both <= 2^53: no overflow
  if (total > kMaxCount) not_a_report(source, std::string("its stacks add up to more than 2^53 ") + what);
}

// A pass over the text that builds nothing: depth and numbers are checked
// before json::parse makes a tree of it.
class ShapeCheck : public nlohmann::json_sax<json> {
 public:
  std::string problem;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool key(string_t&) override { return true; }
  bool start_object(std::size_t) override { return deeper(); }
  bool start_array(std::size_t) override { return deeper(); }
  bool end_object() override { return --depth_, true; }
  bool end_array() override { return --depth_, true; }
  bool parse_error(std::size_t byte, const std::string&, const nlohmann::detail::exception& e) override {
    problem = (e.id == 406 ? "a number out of range at byte " : "not JSON, or more than one document: byte ") +
              std::to_string(byte);
    return false;
  }

 private:
  size_t depth_ = 0;
  bool deeper() {
    if (++depth_ <= kMaxDepth) return true;
    problem = "nested more than " + std::to_string(kMaxDepth) + " deep";
    return false;
  }
};

}  // namespace

RecordedReport read_report_json(std::string_view input, const std::string& source_in) {
  const std::string source = printable(source_in, 120);
  ShapeCheck shape;
  if (!json::sax_parse(input.begin(), input.end(), &shape)) not_a_report(source, shape.problem);
  json j;
  try {
    j = json::parse(input.begin(), input.end());
  } catch (const json::exception&) {
    not_a_report(source, "not JSON, or more than one document");
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
  if (j.contains("cache_method") && j["cache_method"].is_string()) r.method = safe(j["cache_method"].get<std::string>());
  if (j.contains("by") && j["by"].is_string()) r.by = safe(j["by"].get<std::string>());
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
  uint64_t objects = 0, bytes = 0;
  for (size_t i = 0; i < stacks->size(); ++i) {
    const json& s = (*stacks)[i];
    const std::string where = "stacks[" + std::to_string(i) + "]";
    if (!s.is_object()) not_a_report(source, where + " is not an object");
    RecordedStack st;
    st.cache = text(s, "cache", source, where);
    st.stack_id = text(s, "stack_id", source, where);
    st.objects = integer(s, "objects", source, where);
    st.bytes = integer(s, "bytes", source, where);
    add_up(objects, st.objects, "objects", source);
    add_up(bytes, st.bytes, "bytes", source);
    const json& frames = field(s, "frames", json::value_t::array, source, where);
    for (const auto& f : frames) {
      if (!f.is_string()) not_a_report(source, where + " has a frame that is not a string");
      st.frames.push_back(safe(f.get<std::string>()));
    }
    if (s.contains("verdict") && s["verdict"].is_string()) st.verdict = safe(s["verdict"].get<std::string>());
    if (!r.by.empty()) st.task = text(s, "task", source, where);
    r.stacks.push_back(std::move(st));
  }
  return r;
}

}  // namespace slableak
