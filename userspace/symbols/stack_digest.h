// A short id for a symbolized stack that is the same across restarts and
// across hosts running the same kernel build (unlike kernel stack-map ids),
// so dashboards and alerts can follow one stack over time.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slableak {

// FNV-1a-64 over the frames, innermost first, each followed by '\n'. Fed
// one frame at a time, so a stack's digest is taken while its frames are
// formatted, once, without keeping the strings.
class StackDigest {
 public:
  void add_frame(std::string_view frame);
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;  // FNV offset basis
};

// 16 lowercase hex digits.
std::string digest_hex(uint64_t digest);
// digest_hex of the StackDigest of @frames.
std::string stack_digest(const std::vector<std::string>& frames);

}  // namespace slableak
