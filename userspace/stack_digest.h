// A short id for a symbolized stack that is the same across restarts and
// across hosts running the same kernel build (unlike kernel stack-map ids),
// so dashboards and alerts can follow one stack over time.
#pragma once
#include <string>
#include <vector>

namespace slableak {

// 16 lowercase hex digits of FNV-1a-64 over the frames, innermost first.
std::string stack_digest(const std::vector<std::string>& frames);

}  // namespace slableak
