// Invariants of select_caches() shared by the harnesses that reach it: a
// selection mirrors the request and names real caches of one kmalloc size
// class, and a refusal is a one-line usage or environment error.
#pragma once
#include <string>
#include <vector>

#include "cache_naming.h"
#include "cache_selection.h"
#include "error.h"
#include "fuzz_check.h"
#include "slabinfo.h"

inline void check_selection(const std::vector<std::string>& requested, const std::vector<slableak::SlabCache>& caches) {
  using namespace slableak;
  for (const bool exact : {true, false}) {
    try {
      const auto sel = select_caches(requested, caches, exact);
      FUZZ_CHECK(sel.size() == requested.size());
      for (size_t i = 0; i < sel.size(); ++i) {
        FUZZ_CHECK(sel[i].name == requested[i]);
        FUZZ_CHECK(find_cache(caches, sel[i].name) != nullptr);
        FUZZ_CHECK(sel[i].req_lo < sel[i].req_hi);
        FUZZ_CHECK(size_class_for(sel[i].req_hi) == sel[i].req_hi);
      }
    } catch (const Error& e) {
      FUZZ_CHECK(e.code() == Exit::usage || e.code() == Exit::environment);
      FUZZ_CHECK(std::string(e.what()).find('\n') == std::string::npos);  // one-line errors
    }
  }
}
