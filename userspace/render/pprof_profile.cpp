#include "pprof_profile.h"

#include <zlib.h>

#include <cmath>
#include <map>
#include <tuple>
#include <unordered_map>

#include "error.h"
#include "kallsyms.h"

namespace slableak {

void ProtoWriter::varint(uint64_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<char>(v));
}

void ProtoWriter::uint64_field(uint32_t field, uint64_t v) {
  tag(field, 0);
  varint(v);
}

void ProtoWriter::bytes_field(uint32_t field, std::string_view b) {
  tag(field, 2);
  varint(b.size());
  buf_.append(b);
}

void ProtoWriter::packed_field(uint32_t field, const std::vector<uint64_t>& values) {
  if (values.empty()) return;
  ProtoWriter inner;
  for (uint64_t v : values) inner.varint(v);
  bytes_field(field, inner.bytes());
}

const std::vector<PprofSampleType>& pprof_sample_types() {
  static const std::vector<PprofSampleType> types = {
      {"alloc_objects", "count", true},
      {"alloc_space", "bytes", true},
      {"inuse_objects", "count", false},
      {"inuse_space", "bytes", false},
  };
  return types;
}

namespace {

// Field numbers of google/pprof proto/profile.proto.
namespace pf {
enum Profile : uint32_t {
  sample_type = 1, sample = 2, mapping = 3, location = 4, function = 5, string_table = 6,
  time_nanos = 9, duration_nanos = 10, period_type = 11, period = 12, comment = 13, default_sample_type = 14,
};
enum ValueType : uint32_t { vt_type = 1, vt_unit = 2 };
enum Sample : uint32_t { location_id = 1, value = 2, label = 3 };
enum Label : uint32_t { key = 1, str = 2 };
enum Mapping : uint32_t { m_id = 1, m_filename = 5, has_functions = 7 };
enum Location : uint32_t { l_id = 1, mapping_id = 2, address = 3, line = 4 };
enum Line : uint32_t { function_id = 1, line_number = 2 };
enum Function : uint32_t { f_id = 1, name = 2, system_name = 3 };
}  // namespace pf

// Strings, functions, mappings and locations, each numbered in order of
// first use: string 0 is "", ids start at 1 with no gaps.
class Tables {
 public:
  Tables() { str(""); }
  int64_t str(const std::string& s) {
    auto [it, fresh] = strings_.try_emplace(s, static_cast<int64_t>(string_list_.size()));
    if (fresh) string_list_.push_back(s);
    return it->second;
  }
  uint64_t location(const FrameParts& f) {
    const uint64_t mapping = mapping_id(f.module);
    const uint64_t function = function_id(f.symbol);
    auto key = std::make_tuple(function, mapping, f.offset, f.address);
    auto [it, fresh] = locations_.try_emplace(key, locations_.size() + 1);
    if (fresh) {
      ProtoWriter l;
      l.uint64_field(pf::l_id, it->second);
      l.uint64_field(pf::mapping_id, mapping);
      if (f.address) l.uint64_field(pf::address, f.address);
      ProtoWriter line;
      line.uint64_field(pf::function_id, function);
      if (f.offset) line.int64_field(pf::line_number, static_cast<int64_t>(f.offset));
      l.bytes_field(pf::line, line.bytes());
      location_msgs_.push_back(l.bytes());
    }
    return it->second;
  }
  void write(ProtoWriter& p) const {
    for (const auto& m : mapping_msgs_) p.bytes_field(pf::mapping, m);
    for (const auto& l : location_msgs_) p.bytes_field(pf::location, l);
    for (const auto& f : function_msgs_) p.bytes_field(pf::function, f);
    for (const auto& s : string_list_) p.bytes_field(pf::string_table, s);
  }

 private:
  uint64_t mapping_id(const std::string& module) {
    auto [it, fresh] = mappings_.try_emplace(module, mappings_.size() + 1);
    if (fresh) {
      // Bracketed names, like perf's: pprof never looks for such a file
      // to symbolize; the frames are named already.
      ProtoWriter m;
      m.uint64_field(pf::m_id, it->second);
      m.int64_field(pf::m_filename, str(module.empty() ? "[kernel.kallsyms]" : "[" + module + "]"));
      m.uint64_field(pf::has_functions, 1);
      mapping_msgs_.push_back(m.bytes());
    }
    return it->second;
  }
  uint64_t function_id(const std::string& symbol) {
    auto [it, fresh] = functions_.try_emplace(symbol, functions_.size() + 1);
    if (fresh) {
      ProtoWriter f;
      f.uint64_field(pf::f_id, it->second);
      const int64_t name = str(symbol);
      f.int64_field(pf::name, name);
      f.int64_field(pf::system_name, name);
      function_msgs_.push_back(f.bytes());
    }
    return it->second;
  }

  std::unordered_map<std::string, int64_t> strings_;
  std::vector<std::string> string_list_;
  std::unordered_map<std::string, uint64_t> mappings_, functions_;
  std::map<std::tuple<uint64_t, uint64_t, uint64_t, uint64_t>, uint64_t> locations_;
  std::vector<std::string> mapping_msgs_, location_msgs_, function_msgs_;
};

std::string value_type(Tables& t, const std::string& type, const std::string& unit) {
  ProtoWriter v;
  v.int64_field(pf::vt_type, t.str(type));
  v.int64_field(pf::vt_unit, t.str(unit));
  return v.bytes();
}

}  // namespace

std::string build_pprof_profile(const Snapshot& s, size_t top) {
  Tables t;
  ProtoWriter p;
  for (const auto& st : pprof_sample_types()) p.bytes_field(pf::sample_type, value_type(t, st.type, st.unit));

  std::unordered_map<std::string, uint32_t> object_size;
  for (const auto& c : s.caches) object_size[c.name] = c.object_size;

  size_t n = 0;
  for (const auto& st : s.stacks) {
    if (top && n >= top) break;
    ++n;
    // alloc_space: allocations times the cache's object size (the
    // tracer counts bytes only for what is outstanding).
    int64_t size = 0;
    if (auto it = object_size.find(st.cache); it != object_size.end() && it->second) size = it->second;
    else if (st.objects > 0) size = st.bytes / st.objects;
    const auto allocs = static_cast<int64_t>(st.allocs);
    const std::vector<int64_t> values = {allocs, allocs * size, st.objects, st.bytes};
    if (values[0] == 0 && values[2] == 0 && values[3] == 0) continue;

    ProtoWriter sample;
    std::vector<uint64_t> locations;
    for (const auto& frame : st.frames) locations.push_back(t.location(parse_frame(frame)));
    if (locations.empty()) locations.push_back(t.location(parse_frame("[unknown]")));
    sample.packed_field(pf::location_id, locations);
    std::vector<uint64_t> raw_values;
    for (int64_t v : values) raw_values.push_back(static_cast<uint64_t>(v));
    sample.packed_field(pf::value, raw_values);
    auto label = [&](const std::string& key, const std::string& value) {
      ProtoWriter l;
      l.int64_field(pf::key, t.str(key));
      l.int64_field(pf::str, t.str(value));
      sample.bytes_field(pf::label, l.bytes());
    };
    label("cache", st.cache);
    label("verdict", verdict_name(st.verdict));
    label("stack_id", st.stack_id);
    label("stack_fn_id", st.stack_fn_id);
    if (!s.by.empty()) label(s.by, st.task);
    p.bytes_field(pf::sample, sample.bytes());
  }

  // Comments and header strings before the tables are written: every
  // string must be in the table.
  std::vector<int64_t> comments = {
      t.str("slableak: kernel slab objects allocated since start and not freed"),
      t.str("kernel " + (s.kernel_release.empty() ? std::string("unknown") : s.kernel_release) + " (" + s.arch + ")"),
      t.str("cache method " + s.method + ": " + method_description(s)),
  };
  if (s.estimated())
    comments.push_back(t.str("estimates: 1 in " + std::to_string(s.sample_every) +
                             " allocations sampled, values scaled by the period"));
  const std::string period_type = value_type(t, "allocations", "count");
  const int64_t default_type = t.str(kPprofDefaultSampleType);

  t.write(p);
  p.int64_field(pf::time_nanos, static_cast<int64_t>(std::llround(s.unix_time * 1e9)));
  p.int64_field(pf::duration_nanos, static_cast<int64_t>(std::llround(s.elapsed_s * 1e9)));
  p.bytes_field(pf::period_type, period_type);
  p.int64_field(pf::period, s.sample_every);
  std::vector<uint64_t> raw_comments(comments.begin(), comments.end());
  p.packed_field(pf::comment, raw_comments);
  p.int64_field(pf::default_sample_type, default_type);
  return p.bytes();
}

std::string gzip_compress(std::string_view data) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer around the deflate stream.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw runtime_error("zlib: deflateInit2 failed");
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw runtime_error("zlib: deflate did not finish");
  return out;
}

void write_pprof(std::ostream& os, const Snapshot& s, size_t top) {
  const std::string gz = gzip_compress(build_pprof_profile(s, top));
  os.write(gz.data(), static_cast<std::streamsize>(gz.size()));
}

}  // namespace slableak
