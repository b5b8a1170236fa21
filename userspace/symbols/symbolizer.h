// Turns raw kernel stacks into readable frames and drops the frames that
// belong to the tracer and the allocator itself, so the first frame shown is
// the code that asked for memory.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "frame_list.h"
#include "kallsyms.h"

namespace slableak {

// True for frames of BPF dispatch, the tracepoint, and kmalloc internals.
bool is_allocator_frame(std::string_view symbol);

struct SymbolizedStack {
  SymbolizedStack() : SymbolizedStack(FrameList{}, FrameList{}) {}
  // Literal stacks (placeholders, tests): the digest is taken from @frames.
  SymbolizedStack(FrameList frames, FrameList functions);
  SymbolizedStack(FrameList frames, FrameList functions, uint64_t digest, uint64_t fn_digest)
      : frames(std::move(frames)), functions(std::move(functions)), digest(digest), fn_digest(fn_digest) {}

  FrameList frames;     // innermost first, "fn+0x1a [mod]"
  FrameList functions;  // same frames, function (and module) only
  // StackDigest of the frames, taken once: every refresh folds stacks by it.
  uint64_t digest;
  // SiteDigest of the function names (allocation_site.h): the allocation
  // site, the same on every kernel build and arch (stack_fn_id).
  uint64_t fn_digest;
};

class Symbolizer {
 public:
  Symbolizer(Kallsyms syms, bool show_addresses)
      : syms_(std::make_shared<const Kallsyms>(std::move(syms))), show_addresses_(show_addresses) {}
  // Cached by @stack_id: an id names one stack until it is retired (forget).
  const SymbolizedStack& symbolize(uint32_t stack_id, const std::vector<uint64_t>& ips);
  // Keeps only the return addresses of the frames shown (8 bytes each); the
  // text is made from the symbol table when a report reads it.
  SymbolizedStack symbolize_uncached(const std::vector<uint64_t>& ips) const;
  // The stack symbolized earlier under @stack_id, or nullptr.
  const SymbolizedStack* cached(uint32_t stack_id) const;
  // Drops a retired stack id's frames.
  void forget(uint32_t stack_id) { cache_.erase(stack_id); }
  size_t size() const { return cache_.size(); }
  // Stacks symbolized from now on use @syms (modules came or went); those
  // symbolized before keep the table they were read with.
  void replace_symbols(Kallsyms syms) { syms_ = std::make_shared<const Kallsyms>(std::move(syms)); }

 private:
  // Shared with every symbolized stack, which renders its frames from it.
  std::shared_ptr<const Kallsyms> syms_;
  bool show_addresses_;
  std::unordered_map<uint32_t, SymbolizedStack> cache_;
};

}  // namespace slableak
