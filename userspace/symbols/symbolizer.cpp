#include "symbolizer.h"

#include <algorithm>
#include <array>

#include "allocation_site.h"
#include "stack_digest.h"

namespace slableak {
namespace {

// The frames of a symbolized stack: return addresses, named through the
// shared symbol table when read.
class AddressFrames final : public FrameSource {
 public:
  AddressFrames(std::shared_ptr<const Kallsyms> syms, bool show_addresses, std::vector<uint64_t> ips)
      : syms_(std::move(syms)), ips_(std::move(ips)), show_addresses_(show_addresses) {}
  size_t size() const override { return ips_.size(); }
  std::string text(size_t i, Form form) const override {
    const auto r = syms_->resolve(ips_[i]);
    return form == Form::frame ? format_frame(r, ips_[i], show_addresses_) : format_function(r);
  }

 private:
  std::shared_ptr<const Kallsyms> syms_;
  std::vector<uint64_t> ips_;
  bool show_addresses_;
};

}  // namespace

bool is_allocator_frame(std::string_view s) {
  static constexpr std::array<std::string_view, 22> prefixes = {
      "bpf_prog_",      "bpf_trace_run",   "__bpf_trace_",   "__traceiter_",   "trace_kmalloc",
      "trace_call_bpf", "perf_trace_",     "__kmalloc",      "kmalloc",        "__do_kmalloc",
      "kmem_cache_alloc", "__kmem_cache_alloc", "slab_alloc", "___slab_alloc", "__slab_alloc",
      "kmalloc_trace",  "__kvmalloc",      "kvmalloc",       "kmalloc_node",   "__kmalloc_node",
      "kmalloc_large",  "bpf_get_stack",
  };
  for (auto p : prefixes)
    if (s.substr(0, p.size()) == p) return true;
  return false;
}

SymbolizedStack::SymbolizedStack(FrameList frames_in, FrameList functions_in)
    : frames(std::move(frames_in)), functions(std::move(functions_in)) {
  StackDigest d;
  for (const auto& f : frames) d.add_frame(f);
  digest = d.value();
  SiteDigest fd;
  for (const auto& f : frames) fd.add_function(symbol_of_frame(f));
  fn_digest = fd.value();
}

SymbolizedStack Symbolizer::symbolize_uncached(const std::vector<uint64_t>& ips) const {
  // Leading zeros are frames the kernel side dropped (the BPF dispatcher's
  // and the program's, bpf/stack_store.h); the frames end at the next zero. The
  // allocator's own frames are dropped from the innermost end only. Unnamed
  // frames among them go too: the JIT'd BPF program has no kallsyms entry
  // unless net.core.bpf_jit_kallsyms=1, and some unwinders report it (arm64
  // always, x86-64 on 5.10) ahead of bpf_trace_run*. An unnamed frame that
  // no allocator frame follows stays.
  const auto begin = std::find_if(ips.begin(), ips.end(), [](uint64_t ip) { return ip != 0; });
  const auto end = std::find(begin, ips.end(), uint64_t{0});
  auto first = begin;
  for (auto it = begin; it != end; ++it) {
    const auto r = syms_->resolve(*it);
    if (!r) continue;
    if (!is_allocator_frame(r->name)) break;
    first = it + 1;
  }
  // The digest (stack_id) is taken from the frames without addresses, with
  // or without --show-addresses: ids stay stable, and an address never
  // shapes one.
  StackDigest digest;
  SiteDigest fn_digest;
  for (auto it = first; it != end; ++it) {
    const auto r = syms_->resolve(*it);
    digest.add_frame(format_frame(r, *it, false));
    fn_digest.add_function(r ? r->name : std::string_view("[unknown]"));
  }
  if (first == end) return SymbolizedStack(FrameList{}, FrameList{}, digest.value(), fn_digest.value());
  auto source = std::make_shared<const AddressFrames>(syms_, show_addresses_, std::vector<uint64_t>(first, end));
  return SymbolizedStack(FrameList(source, FrameList::Form::frame), FrameList(source, FrameList::Form::function),
                         digest.value(), fn_digest.value());
}

const SymbolizedStack* Symbolizer::cached(uint32_t stack_id) const {
  auto it = cache_.find(stack_id);
  return it == cache_.end() ? nullptr : &it->second;
}

const SymbolizedStack& Symbolizer::symbolize(uint32_t stack_id, const std::vector<uint64_t>& ips) {
  auto it = cache_.find(stack_id);
  if (it != cache_.end()) return it->second;
  return cache_.emplace(stack_id, symbolize_uncached(ips)).first->second;
}

}  // namespace slableak
