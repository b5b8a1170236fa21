// The real session: checks the host (privileges, BTF, the caches, memory),
// loads and attaches the BPF programs, and wires them into a Session. Every
// host problem is reported here, before anything is attached.
#pragma once
#include <memory>
#include <vector>

#include "session.h"
#include "slabinfo.h"
#include "trace_config.h"

namespace slableak {

std::unique_ptr<Session> open_live_session(const TraceOptions& opt);

// /proc/slabinfo of this host, parsed (needs root).
std::vector<SlabCache> read_host_slabinfo();

}  // namespace slableak
