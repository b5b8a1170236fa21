#include "bpf_dispatcher.h"

#include <algorithm>
#include <cctype>

namespace slableak {

std::optional<Kallsyms::TextSpan> bpf_dispatcher_text(const Kallsyms& syms) {
  constexpr std::string_view kPrefix = "bpf_trace_run";
  const auto span = syms.core_text_of([&](std::string_view name) {
    if (name.size() <= kPrefix.size() || name.substr(0, kPrefix.size()) != kPrefix) return false;
    const auto digits = name.substr(kPrefix.size());
    return std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  });
  if (!span || span->end - span->begin > kMaxDispatcherText) return std::nullopt;
  return span;
}

}  // namespace slableak
