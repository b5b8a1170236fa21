#include "program_plan.h"

#include <algorithm>

#include "error.h"

namespace slableak {

CacheMethod resolve_method(const KernelFeatures& kf, CacheMethod requested) {
  if (requested == CacheMethod::kfunc && !kf.has_kmem_cache_kfunc)
    throw env_error("--method kfunc needs bpf_get_kmem_cache (Linux 6.13+); this kernel (" + kf.release +
                    ") lacks it: use --method slab");
  if (requested != CacheMethod::automatic) return requested;
  // The walk is proven in the kernel matrix on x86-64 and arm64 with 4 KiB
  // pages; an arm64 kernel built with 16 or 64 KiB pages keeps the
  // size+flags guess (its calibration would fail).
  if (kf.has_kmem_cache_kfunc) return CacheMethod::kfunc;
  return kf.page_size == 4096 ? CacheMethod::slab : CacheMethod::derived;
}

bool names_alloc_event_cache(const KernelFeatures& kf, CacheMethod method) {
  return kf.alloc_event_has_cache || method == CacheMethod::slab;
}

const PlannedProgram* ProgramPlan::find(std::string_view name) const {
  const auto it = std::find_if(programs.begin(), programs.end(), [&](const PlannedProgram& p) { return p.name == name; });
  return it == programs.end() ? nullptr : &*it;
}

bool ProgramPlan::calibrates() const {
  return std::any_of(programs.begin(), programs.end(),
                     [](const PlannedProgram& p) { return p.attach == Attach::calibration; });
}

ProgramPlan plan_programs(const KernelFeatures& kf, const PlanRequest& request) {
  ProgramPlan plan;
  plan.method = resolve_method(kf, request.method);
  plan.alloc_event_has_cache = kf.alloc_event_has_cache;
  plan.kfunc_object = plan.method == CacheMethod::kfunc;
  plan.live_array = kf.has_bpf_cmpxchg || plan.kfunc_object;  // the kfunc (6.13) came after cmpxchg (5.12)
  if (request.named_caches && !names_alloc_event_cache(kf, plan.method))
    throw usage_error("named caches need --method slab on this kernel (" + kf.release +
                      "): kmem_cache_alloc names its cache only since Linux 6.0");
  const bool node = kf.has_kmalloc_node_event;
  auto load = [&](std::string_view name, bool when, Attach attach = Attach::with_tracing) {
    if (when) plan.programs.push_back({name, attach});
  };
  // Only the events the selection needs: following dentry adds nothing to
  // kmalloc, following kmalloc-2k nothing to kmem_cache_alloc.
  const bool kmalloc = request.kmalloc_caches;
  switch (plan.method) {
    case CacheMethod::kfunc:
      load("kmalloc_kfunc", kmalloc);
      load("kfree_kfunc", true);
      load("kmem_cache_free_kfunc", true);
      break;
    case CacheMethod::slab:
    case CacheMethod::derived: {
      const bool slab = plan.method == CacheMethod::slab;
      load(slab ? "kmalloc_slab" : "kmalloc_derived", kmalloc);
      load(slab ? "kmalloc_node_slab" : "kmalloc_node_derived", kmalloc && node);
      // The raw_tp free programs need no cache name: shared by both.
      load("kfree_derived", true);
      load("kmem_cache_free_derived", true);
      break;
    }
    case CacheMethod::automatic:
      break;  // resolved above
  }
  load("kmem_cache_alloc_named", request.named_caches);
  load("kmem_cache_alloc_node_named", request.named_caches && node);
  load("task_filter_fork", request.filter_tasks);
  load("task_filter_exit", request.filter_tasks);
  // The slab walk's calibration, only where a program walks: the kmalloc
  // programs, and kmem_cache_alloc's before 6.0 (no cache in the event).
  const bool calib = plan.method == CacheMethod::slab && (kmalloc || (request.named_caches && !kf.alloc_event_has_cache));
  load("calib_page_alloc", calib, Attach::calibration);
  load("calib_kmalloc", calib, Attach::calibration);
  load("calib_kmalloc_node", calib && node, Attach::calibration);
  return plan;
}

}  // namespace slableak
