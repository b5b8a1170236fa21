// What one host costs a fleet's backends (docs/operations.md, "Fleet"):
// for N held stacks in one cache, the Prometheus series and bytes of one
// scrape (--top-stacks 20, the default) and the size of the gzipped pprof
// profile of /debug/pprof/slab, plain and gzipped.
//
// Synthetic stacks through the real renderers: 12 frames each, names drawn
// from a pool of 400 kernel-like function names so that stacks share
// callers as real ones do. A unit-level generator, not a live host.
//
//   fleet_cost [N...]   (default 20 200 2000)
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "pprof_profile.h"
#include "prometheus_text.h"
#include "snapshot.h"
#include "../tests/support/sample_snapshot.h"

using namespace slableak;

namespace {

Snapshot synthetic(size_t stacks) {
  std::mt19937 rng(42);
  std::vector<std::string> names;
  for (int i = 0; i < 400; ++i) names.push_back("kernel_function_" + std::to_string(i) + "_handler");
  Snapshot s = sample_snapshot("kfunc", 3600, 64);
  const CacheHeader c = s.caches.back();
  for (size_t i = 0; i < stacks; ++i) {
    StackReport st;
    st.cache = c.name;
    char id[17];
    std::snprintf(id, sizeof id, "%016llx", 0x5335cb855cb93659ull + i * 7919ull);
    st.stack_id = id;
    std::snprintf(id, sizeof id, "%016llx", 0x1234cb855cb93659ull + i * 104729ull);
    st.stack_fn_id = id;
    std::vector<std::string> frames, functions;
    for (int f = 0; f < 12; ++f) {
      // Outer frames come from a small set (syscall entry), inner ones vary.
      const size_t pool = f >= 9 ? 8 : names.size();
      const std::string& n = names[rng() % pool];
      char off[16];
      std::snprintf(off, sizeof off, "+0x%x", static_cast<unsigned>(rng() % 0x400));
      frames.push_back(n + off);
      functions.push_back(n);
    }
    st.frames = frames;
    st.functions = functions;
    st.objects = 64 * static_cast<int64_t>(1 + rng() % 1000);
    st.bytes = st.objects * 2048;
    st.allocs = static_cast<uint64_t>(st.objects) * 3;
    st.frees = st.allocs - static_cast<uint64_t>(st.objects);
    st.verdict = i % 7 ? Verdict::pool : Verdict::leaking;
    s.stacks.push_back(std::move(st));
  }
  return s;
}

size_t series(const std::string& text) {
  size_t n = 0;
  for (size_t at = 0; at < text.size();) {
    const size_t nl = text.find('\n', at);
    if (text[at] != '#') ++n;
    at = nl == std::string::npos ? text.size() : nl + 1;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> ns;
  for (int i = 1; i < argc; ++i) ns.push_back(std::strtoul(argv[i], nullptr, 10));
  if (ns.empty()) ns = {20, 200, 2000};
  std::printf("%8s %8s %14s %14s %16s %14s\n", "stacks", "series", "scrape_bytes", "scrape_gzip", "profile_bytes",
              "profile_gzip");
  for (size_t n : ns) {
    const Snapshot s = synthetic(n);
    ExpositionInfo info;
    info.version = "bench";
    info.kernel = s.kernel_release;
    const std::string text = render_prometheus(s, info);
    const std::string profile = build_pprof_profile(s, 0);
    std::printf("%8zu %8zu %14zu %14zu %16zu %14zu\n", n, series(text), text.size(), gzip_compress(text).size(),
                profile.size(), gzip_compress(profile).size());
  }
  return 0;
}
