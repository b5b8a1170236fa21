// Invariants of select_caches() shared by the harnesses that reach it: a
// selection covers every argument, names each real cache once (a kmalloc
// one by its size class, a named one only where the kernel can name it),
// and a refusal is a one-line usage or environment error.
#pragma once
#include <string>
#include <vector>

#include "cache_naming.h"
#include "cache_selection.h"
#include "error.h"
#include "fuzz_check.h"
#include "slabinfo.h"
#include "slableak.h"

inline void check_selection(const std::vector<std::string>& requested, const std::vector<slableak::SlabCache>& caches) {
  using namespace slableak;
  for (const bool exact : {true, false}) {
    try {
      const auto sel = select_caches(requested, caches, exact);
      FUZZ_CHECK(!sel.empty() && sel.size() <= SLK_MAX_CACHES);
      for (const auto& arg : requested) {
        bool found = false;  // every argument selected at least one cache
        for (const auto& c : sel) found = found || (", " + c.requested + ",").find(", " + arg + ",") != std::string::npos;
        FUZZ_CHECK(found);
      }
      for (size_t i = 0; i < sel.size(); ++i) {
        if (sel[i].name == kKmallocLarge) {  // the pseudo cache: every request above the largest class
          FUZZ_CHECK(sel[i].type == KmallocType::large && sel[i].req_hi == UINT32_MAX && sel[i].req_lo > 0);
          for (size_t j = 0; j < i; ++j) FUZZ_CHECK(sel[j].name != sel[i].name);
          continue;
        }
        FUZZ_CHECK(find_cache(caches, sel[i].name) != nullptr);
        for (size_t j = 0; j < i; ++j) FUZZ_CHECK(sel[j].name != sel[i].name);  // each kernel cache once
        if (sel[i].named) {
          FUZZ_CHECK(exact && sel[i].req_hi == 0);
          continue;
        }
        FUZZ_CHECK(sel[i].req_lo < sel[i].req_hi);
        FUZZ_CHECK(size_class_for(sel[i].req_hi) == sel[i].req_hi);
      }
    } catch (const Error& e) {
      FUZZ_CHECK(e.code() == Exit::usage || e.code() == Exit::environment);
      FUZZ_CHECK(std::string(e.what()).find('\n') == std::string::npos);  // one-line errors
    }
  }
}
