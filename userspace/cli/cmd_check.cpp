// Deployment self-test: everything a real run does up to attaching, one
// read, then a clean detach.
#include <iostream>

#include "commands.h"
#include "live_session.h"
#include "units.h"

namespace slableak {

int run_check(const RunConfig& c) {
  auto session = open_live_session(c.trace);
  announce_ready(c.ready_fd, *session, c.trace.caches);
  const Snapshot s = session->collect();
  std::cout << "ok: attached in " << static_cast<long>(session->attach_ms()) << " ms, cache method "
            << session->method() << ", caches";
  for (const auto& cache : s.caches) std::cout << ' ' << cache.name;
  std::cout << ", kernel map memory " << format_bytes(static_cast<double>(s.health.kernel_map_bytes))
            << "; detached\n";
  return 0;
}

}  // namespace slableak
