// The stacks of a Snapshot merged into one tree for a flame graph: root
// "all", then one child per cache (one tower per cache), under --by one
// child per task ("[comm=sshd]"), then the frames from the outermost to
// the innermost. Frames merge by function (offsets
// dropped, as in the folded output), so twenty stacks that share their
// syscall entry draw it once. Width is outstanding bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "snapshot.h"

namespace slableak {

struct FlameNode {
  std::string name;
  int depth = 0;          // 0 = all, 1 = cache, (--by: 2 = task,) then frames
  int64_t bytes = 0;      // outstanding, this node and everything above it
  int64_t objects = 0;
  int64_t offset = 0;     // bytes left of this node in the whole graph
  double growth_bytes_per_s = 0;
  double oldest_age_s = 0;
  size_t stacks = 0;      // report stacks that pass through here
  std::vector<FlameNode> children;  // widest first, ties by name
};

struct FlameTree {
  FlameNode root;
  size_t stacks_shown = 0;    // stacks with bytes > 0 that went in
  size_t stacks_left_out = 0; // held stacks beyond @top
  int max_depth = 0;
};

// Stacks with no outstanding bytes are left out (nothing to draw); of the
// rest, the first @top in the snapshot's order go in (0 = all).
FlameTree build_flame_tree(const Snapshot& s, size_t top);

// How the colour of a box is chosen: growth of its bytes per minute as a
// share of the bytes it holds. Each class has a legend entry.
enum class GrowthClass { shrinking, steady, growing, fast };
GrowthClass growth_class(const FlameNode& n);
const char* growth_class_label(GrowthClass c);

}  // namespace slableak
