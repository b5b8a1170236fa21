// parse_duration and parse_count: what users type for --duration,
// --interval, --min-age and --max-tracked.
#include <chrono>
#include <cstdint>
#include <string_view>

#include "error.h"
#include "fuzz_check.h"
#include "units.h"

using namespace slableak;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const std::chrono::nanoseconds d = parse_duration(text, "--duration");
    FUZZ_CHECK(d.count() > 0);
    FUZZ_CHECK(d <= std::chrono::hours(24 * 365) + std::chrono::seconds(1));
    const std::string shown = format_duration(std::chrono::duration<double>(d).count());
    FUZZ_CHECK(!shown.empty() && shown != "-");
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == Exit::usage);  // a typo is a usage error, nothing else
  }
  try {
    const uint64_t n = parse_count(text, "--max-tracked");
    FUZZ_CHECK(!text.empty() && text[0] >= '0' && text[0] <= '9');
    const std::string shown = format_bytes(static_cast<double>(n));
    FUZZ_CHECK(!shown.empty());
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == Exit::usage);
  }
  return 0;
}
