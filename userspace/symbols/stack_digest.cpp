#include "stack_digest.h"


namespace slableak {

void StackDigest::add_frame(std::string_view frame) {
  auto mix = [this](unsigned char c) {
    h_ ^= c;
    h_ *= 0x100000001b3ull;
  };
  for (char c : frame) mix(static_cast<unsigned char>(c));
  mix('\n');  // frame separator: ["ab","c"] differs from ["a","bc"]
}

std::string digest_hex(uint64_t digest) {
  // Every report row of every refresh gets one: no printf parsing.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, digest >>= 4) out[static_cast<size_t>(i)] = kHex[digest & 0xf];
  return out;
}

std::string stack_digest(const std::vector<std::string>& frames) {
  StackDigest d;
  for (const auto& f : frames) d.add_frame(f);
  return digest_hex(d.value());
}

}  // namespace slableak
