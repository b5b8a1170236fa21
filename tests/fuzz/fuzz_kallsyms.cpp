// Kallsyms::parse, Kallsyms::Builder and resolve: /proc/kallsyms as the kernel (or a tampered
// file, or a future format) hands it to us.
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "kallsyms.h"

using namespace slableak;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Kallsyms k = Kallsyms::parse(text);
  if (k.addresses_hidden()) FUZZ_CHECK(k.size() == 0);

  // Addresses to resolve: the edges, the addresses the input names and their
  // neighbours (exact hits, one before, the end of the credible offset
  // range), and the last eight bytes of the input as a raw address.
  std::vector<uint64_t> probes = {0, 1, UINT64_MAX, 0xffffffff81000000ull};
  for (std::string_view rest = text; !rest.empty() && probes.size() < 256;) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    uint64_t a = 0;
    if (std::from_chars(line.data(), line.data() + line.size(), a, 16).ec != std::errc()) continue;
    for (uint64_t p : {a - 1, a, a + 1, a + (1u << 20) - 1, a + (1u << 20)}) probes.push_back(p);
  }
  if (size >= 8) {
    uint64_t raw;
    std::memcpy(&raw, data + size - 8, 8);
    probes.push_back(raw);
  }
  // The daemon feeds the text in 64 KiB pieces (Kallsyms::Builder): a split
  // anywhere, here where the first byte says, must give the same table.
  Kallsyms::Builder split;
  const size_t at = size ? data[0] % (size + 1) : 0;
  split.feed(text.substr(0, at));
  split.feed(text.substr(at));
  const Kallsyms k2 = split.finish();
  FUZZ_CHECK(k2.size() == k.size());
  FUZZ_CHECK(k2.addresses_hidden() == k.addresses_hidden());

  for (const uint64_t a : probes) {
    const auto r = k.resolve(a);
    const auto r2 = k2.resolve(a);
    FUZZ_CHECK(r.has_value() == r2.has_value());
    if (r && r2) FUZZ_CHECK(r->name == r2->name && r->module == r2->module && r->offset == r2->offset);
    if (r) {
      FUZZ_CHECK(!r->name.empty());
      FUZZ_CHECK(r->offset < (1u << 20));
      FUZZ_CHECK(r->offset <= a);
      FUZZ_CHECK(r->name.find('\n') == std::string_view::npos);
    }
    const std::string frame = format_frame(r, a, (a & 1) != 0);
    FUZZ_CHECK(!frame.empty());
    if (!r) FUZZ_CHECK(frame.rfind("[unknown]", 0) == 0);
  }
  return 0;
}
