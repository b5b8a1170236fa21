// The held set as a pprof profile: a perftools.profiles.Profile
// (google/pprof proto/profile.proto), serialized by a small protobuf writer
// of our own and gzipped, for `go tool pprof`, Parca and Pyroscope.
//
// Sample types: alloc_objects/count, alloc_space/bytes, inuse_objects/count,
// inuse_space/bytes (the default). One sample per report row (cache, stack
// and, with --by, task), locations innermost first. A function is named by
// its symbol alone, so one code path merges across kernel builds; the module
// is the location's mapping ("[kernel.kallsyms]", "[nfs]"), the offset the
// line number, and the address is set only when the frames carry one
// (--show-addresses).
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "snapshot.h"

namespace slableak {

// Protocol-buffer wire format, the parts profile.proto uses.
class ProtoWriter {
 public:
  void varint(uint64_t v);
  void tag(uint32_t field, uint32_t wire_type) { varint(uint64_t{field} << 3 | wire_type); }
  // Fields equal to 0 / "" are written too: the caller leaves out defaults.
  void uint64_field(uint32_t field, uint64_t v);
  void int64_field(uint32_t field, int64_t v) { uint64_field(field, static_cast<uint64_t>(v)); }
  void bytes_field(uint32_t field, std::string_view b);
  void packed_field(uint32_t field, const std::vector<uint64_t>& values);
  const std::string& bytes() const { return buf_; }

 private:
  std::string buf_;
};

struct PprofSampleType {
  const char* type;
  const char* unit;
  bool cumulative;  // counted since start (alloc_*), not a state (inuse_*)
};
// In the order of the profile's sample_type (and every sample's values).
const std::vector<PprofSampleType>& pprof_sample_types();
inline constexpr const char* kPprofDefaultSampleType = "inuse_space";

// The serialized (not compressed) profile of @s's first @top stacks (0 = all).
std::string build_pprof_profile(const Snapshot& s, size_t top);
// gzip framing (RFC 1952) over zlib's deflate.
std::string gzip_compress(std::string_view data);
// gzip_compress(build_pprof_profile(s, top)) to @os.
void write_pprof(std::ostream& os, const Snapshot& s, size_t top);

}  // namespace slableak
