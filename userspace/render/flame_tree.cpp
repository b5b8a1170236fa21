#include "flame_tree.h"

#include <algorithm>

namespace slableak {
namespace {

FlameNode& child(FlameNode& parent, const std::string& name) {
  for (auto& c : parent.children)
    if (c.name == name) return c;
  FlameNode n;
  n.name = name;
  n.depth = parent.depth + 1;
  parent.children.push_back(std::move(n));
  return parent.children.back();
}

void add(FlameNode& n, const StackReport& st) {
  n.bytes += st.bytes;
  n.objects += st.objects;
  n.growth_bytes_per_s += st.growth_bytes_per_s;
  n.oldest_age_s = std::max(n.oldest_age_s, st.oldest_age_s);
  ++n.stacks;
}

// Widest first so the heaviest path is the leftmost tower; offsets follow.
void order(FlameNode& n, int64_t offset, int* max_depth) {
  n.offset = offset;
  *max_depth = std::max(*max_depth, n.depth);
  std::sort(n.children.begin(), n.children.end(), [](const FlameNode& a, const FlameNode& b) {
    return a.bytes != b.bytes ? a.bytes > b.bytes : a.name < b.name;
  });
  for (auto& c : n.children) {
    order(c, offset, max_depth);
    offset += c.bytes;
  }
}

}  // namespace

FlameTree build_flame_tree(const Snapshot& s, size_t top) {
  FlameTree t;
  t.root.name = "all";
  for (const auto& st : s.stacks) {
    if (st.bytes <= 0) continue;
    if (top && t.stacks_shown >= top) {
      ++t.stacks_left_out;
      continue;
    }
    ++t.stacks_shown;
    add(t.root, st);
    FlameNode* n = &child(t.root, st.cache);
    add(*n, st);
    // --by: the task is the box above the cache, one tower per task (as in
    // the folded output), so rows of one stack are told apart.
    if (!st.task.empty()) {
      n = &child(*n, "[" + s.by + "=" + st.task + "]");
      add(*n, st);
    }
    for (auto it = st.functions.rbegin(); it != st.functions.rend(); ++it) {
      n = &child(*n, *it);
      add(*n, st);
    }
  }
  order(t.root, 0, &t.max_depth);
  return t;
}

GrowthClass growth_class(const FlameNode& n) {
  if (n.bytes <= 0) return GrowthClass::steady;
  const double per_min = n.growth_bytes_per_s * 60 / static_cast<double>(n.bytes);
  if (per_min < -0.01) return GrowthClass::shrinking;
  if (per_min <= 0.01) return GrowthClass::steady;
  if (per_min <= 0.10) return GrowthClass::growing;
  return GrowthClass::fast;
}

const char* growth_class_label(GrowthClass c) {
  switch (c) {
    case GrowthClass::shrinking: return "shrinking (< -1%/min)";
    case GrowthClass::steady: return "steady (within 1%/min)";
    case GrowthClass::growing: return "growing (1-10%/min)";
    case GrowthClass::fast: return "fast (> 10%/min)";
  }
  return "";
}

}  // namespace slableak
