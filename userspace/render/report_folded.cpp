// Folded stacks for flamegraph.pl / speedscope: "cache;outer;...;inner bytes",
// weighted by outstanding bytes. Offsets are left out so that the same
// function merges into one box.
#include "report.h"

namespace slableak {

void write_folded(std::ostream& os, const Snapshot& s, size_t top) {
  size_t n = 0;
  for (const auto& st : s.stacks) {
    if (top && n >= top) break;
    if (st.bytes <= 0) continue;
    ++n;
    os << st.cache;
    // --by: the task is the first box above the cache, so each task is a tower.
    if (!st.task.empty()) {
      os << ";[" << s.by << '=';
      for (char c : st.task) os << (c == ';' || c == ' ' ? '_' : c);
      os << ']';
    }
    for (auto it = st.functions.rbegin(); it != st.functions.rend(); ++it) {
      os << ';';
      for (char c : *it) os << (c == ';' || c == ' ' ? '_' : c);
    }
    os << ' ' << st.bytes << '\n';
  }
}

}  // namespace slableak
