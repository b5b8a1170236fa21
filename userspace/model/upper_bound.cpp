#include "upper_bound.h"

namespace slableak {

std::vector<std::string> upper_bound_reasons(const UnannouncedFrees& f) {
  std::vector<std::string> r;
  if (f.implicit_frees > 0)
    r.push_back(std::to_string(f.implicit_frees) +
                " objects were freed without a per-object event (batched kfree_rcu, bulk frees) and seen "
                "only when their address was reused; others freed that way are still counted");
  if (f.free_recursion_misses > 0)
    r.push_back(std::to_string(f.free_recursion_misses) +
                " free events were lost (the kernel's count: it skipped slableak's free programs while a "
                "BPF program was already running on that CPU); those objects stay counted until their address "
                "is reused");
  return r;
}

}  // namespace slableak
