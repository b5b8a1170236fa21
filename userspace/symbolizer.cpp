#include "symbolizer.h"

#include <array>

namespace slableak {

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

SymbolizedStack Symbolizer::symbolize_uncached(const std::vector<uint64_t>& ips) const {
  SymbolizedStack out;
  bool skipping = true;
  for (uint64_t ip : ips) {
    if (ip == 0) break;
    auto r = syms_.resolve(ip);
    if (skipping && r && is_allocator_frame(r->name)) continue;
    skipping = false;
    out.frames.push_back(format_frame(r, ip, show_addresses_));
    std::string fn = r ? std::string(r->name) : std::string("[unknown]");
    if (r && !r->module.empty()) fn += " [" + std::string(r->module) + "]";
    out.functions.push_back(std::move(fn));
  }
  return out;
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
