// The real session: checks the host (privileges, BTF, the caches, memory),
// loads and attaches the BPF programs, and wires them into a Session. Every
// host problem is reported here, before anything is attached.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "session.h"
#include "slabinfo.h"
#include "trace_config.h"

namespace slableak {

std::unique_ptr<Session> open_live_session(const TraceOptions& opt);

// --ready-fd: before anything is attached, a usage error unless @fd (>= 0)
// is open for writing; -1 passes.
void check_ready_fd(int fd);
// --ready-fd: one JSON line on @fd once every program is attached, then @fd
// is closed: {"ready":true,"pid":N,"method":"kfunc","caches":["kmalloc-2k"]}.
// Scripts wait on it instead of matching the human "slableak: tracing" line.
void announce_ready(int fd, const Session& session, const std::vector<std::string>& caches);

// /proc/slabinfo of this host, parsed (needs root).
std::vector<SlabCache> read_host_slabinfo();

}  // namespace slableak
