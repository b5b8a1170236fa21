#include "stack_digest.h"

#include <cstdint>
#include <cstdio>

namespace slableak {

std::string stack_digest(const std::vector<std::string>& frames) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 0x100000001b3ull;
  };
  for (const auto& f : frames) {
    for (char c : f) mix(static_cast<unsigned char>(c));
    mix('\n');  // frame separator: ["ab","c"] differs from ["a","bc"]
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace slableak
