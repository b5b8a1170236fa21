// Which BPF programs a session loads and attaches, and which method names
// the cache of each allocation: a pure function of what the kernel offers
// and what the session follows. BpfTracer (kernel/bpf_tracer.cpp) only
// applies the plan; the unit test checks it for every kernel of the matrix
// without booting one.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trace_config.h"

namespace slableak {

// What the running kernel offers, as kernel/kernel_features.cpp probes it
// (and as the tests record it for the kernels of docs/kernels.md).
struct KernelFeatures {
  bool has_kmem_cache_kfunc = false;    // bpf_get_kmem_cache (6.13+)
  bool has_kmalloc_node_event = false;  // separate kmalloc_node tracepoint (< 6.1)
  bool alloc_event_has_cache = false;   // kmem_cache_alloc passes struct kmem_cache * (6.0+)
  uint32_t page_size = 4096;            // the slab walk (bpf/slab_walk.h) assumes 4 KiB
  bool has_bpf_cmpxchg = false;         // BPF_ATOMIC compare-and-exchange (5.12+)
  std::string release;                  // uname -r, for messages
};

// The method that names the cache of a kmalloc allocation: @requested, or
// for automatic the best this kernel has (the kernel's own kfunc, else the
// walk to the object's slab, else the size+flags guess). Throws env_error
// when @requested cannot run here.
CacheMethod resolve_method(const KernelFeatures& kf, CacheMethod requested);

// Can a kmem_cache_alloc event's cache be named under @method (resolved)?
// Since 6.0 the event passes it; before, only the slab walk finds it.
bool names_alloc_event_cache(const KernelFeatures& kf, CacheMethod method);

struct PlanRequest {
  CacheMethod method = CacheMethod::automatic;
  bool kmalloc_caches = false;  // a kmalloc cache is followed (kmalloc events)
  bool named_caches = false;    // a named cache is followed (kmem_cache_alloc events)
  bool filter_tasks = false;    // run --only-command: follow forks and exits
};

enum class Attach {
  with_tracing,  // attached with the others, detached at the end
  calibration,   // attached alone for a moment before the others (bpf/slab_walk.h)
};

struct PlannedProgram {
  std::string_view name;  // the program's name in bpf/slableak.bpf.c (or a header it includes)
  Attach attach = Attach::with_tracing;
  bool operator==(const PlannedProgram&) const = default;
};

struct ProgramPlan {
  CacheMethod method = CacheMethod::derived;  // resolved: kfunc, slab or derived
  // kmem_cache_alloc passes its cache (6.0+); else the object's slab names it.
  bool alloc_event_has_cache = false;
  // The object with the bpf_get_kmem_cache extern (only where it exists).
  bool kfunc_object = false;
  // The live set in the lock-free array table (bpf/live_table.h), where the
  // kernel has BPF compare-and-exchange; else in a hash map, from the object
  // built without it.
  bool live_array = false;
  std::vector<PlannedProgram> programs;  // the programs that load; no other does

  const PlannedProgram* find(std::string_view name) const;
  bool calibrates() const;
};

// Throws usage_error when the request cannot be traced here (a named cache
// before 6.0 under a method other than slab).
ProgramPlan plan_programs(const KernelFeatures& kf, const PlanRequest& request);

}  // namespace slableak
