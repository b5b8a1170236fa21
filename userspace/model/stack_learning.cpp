#include "stack_learning.h"

#include <algorithm>

namespace slableak {

slk_site learn_site_offsets(uint64_t call_site, const std::vector<uint64_t>& ips, const uint64_t* raw,
                            uint32_t nwords) {
  slk_site site{};
  nwords = std::min<uint32_t>(nwords, SLK_SCAN_WORDS);
  auto at = std::find(ips.begin(), ips.end(), call_site);
  if (at == ips.end() || !raw) return site;
  uint32_t from = 0;
  for (auto it = at + 1; it != ips.end() && *it != 0 && site.n < SLK_FP_WORDS; ++it) {
    uint32_t k = from;
    while (k < nwords && raw[k] != *it) ++k;
    if (k >= nwords) break;  // not in the window: stop, keep what we have
    site.off[site.n++] = static_cast<uint16_t>(k);
    site.span = k + 1;
    from = k + 1;
  }
  return site;
}

slk_site agreed_site(const slk_site& a, const slk_site& b) {
  slk_site out{};
  const uint32_t n = std::min(a.n, b.n);
  while (out.n < n && a.off[out.n] == b.off[out.n]) {
    out.off[out.n] = a.off[out.n];
    out.span = a.off[out.n] + 1u;
    ++out.n;
  }
  return out;
}

}  // namespace slableak
