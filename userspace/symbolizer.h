// Turns raw kernel stacks into readable frames and drops the frames that
// belong to the tracer and the allocator itself, so the first frame shown is
// the code that asked for memory.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kallsyms.h"

namespace slableak {

// True for frames of BPF dispatch, the tracepoint, and kmalloc internals.
bool is_allocator_frame(std::string_view symbol);

struct SymbolizedStack {
  std::vector<std::string> frames;     // innermost first, "fn+0x1a [mod]"
  std::vector<std::string> functions;  // same frames, function (and module) only
};

class Symbolizer {
 public:
  Symbolizer(Kallsyms syms, bool show_addresses) : syms_(std::move(syms)), show_addresses_(show_addresses) {}
  // Cached by @stack_id: kernel stack ids are never reused while we run.
  const SymbolizedStack& symbolize(uint32_t stack_id, const std::vector<uint64_t>& ips);
  SymbolizedStack symbolize_uncached(const std::vector<uint64_t>& ips) const;
  // The stack symbolized earlier under @stack_id, or nullptr.
  const SymbolizedStack* cached(uint32_t stack_id) const;

 private:
  Kallsyms syms_;
  bool show_addresses_;
  std::unordered_map<uint32_t, SymbolizedStack> cache_;
};

}  // namespace slableak
