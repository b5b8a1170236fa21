// stack_fn_id: the identity of a leak's allocation site, the same on every
// kernel build and architecture that allocates through the same code.
//
// It digests the innermost two functions of a symbolized stack (the
// allocator's own frames are already gone, see is_allocator_frame), after
// the generic helpers below that only copy or format into a fresh
// allocation: for them the site is their caller. Deeper frames (syscall
// plumbing, wrappers one build inlines and another does not, the arch's
// syscall entry names) never enter the id. docs/metrics.md says what that
// costs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stack_digest.h"

namespace slableak {

// A function's name as the site id reads it: without leading underscores,
// a compiler clone suffix (".isra.0", ".constprop.0", ".part.0", ".cold") or
// the allocation-profiling suffix "_noprof" (6.10+), so "__foo",
// "foo.isra.0" and "foo_noprof" are one function; a syscall's wrappers
// (__x64_sys_foo, __arm64_sys_foo, __se_sys_foo, __do_sys_foo) are
// "sys_foo". "[unknown]" stays.
std::string_view site_function_name(std::string_view fn);

// True for the generic copy/format helpers (kmemdup, kstrdup, kasprintf,
// krealloc, memdup_user, ...): the list is in allocation_site.cpp.
bool is_copy_helper(std::string_view fn);

class SiteDigest {
 public:
  static constexpr size_t kFunctions = 2;
  // Function names (no offset, no module), innermost first; names past the
  // site are ignored.
  void add_function(std::string_view fn);
  // Every name fed was a copy helper (or none was fed): there is no caller
  // to name, so the id is the digest of nothing.
  uint64_t value() const { return d_.value(); }

 private:
  StackDigest d_;
  size_t taken_ = 0;
};

// SiteDigest over @functions.
uint64_t site_digest(const std::vector<std::string>& functions);

}  // namespace slableak
