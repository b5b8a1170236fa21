// /proc/kallsyms as a sorted table of text symbols: address -> symbol+offset.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slableak {

struct ResolvedAddress {
  std::string_view name;
  std::string_view module;  // empty for the core kernel
  uint64_t offset = 0;
};

class Kallsyms {
 public:
  // Parses kallsyms text. Only text symbols (t, T, w, W) are kept. Where
  // several names share an address, a global one wins over a local one and a
  // real name over a "__pfx_" padding symbol, then the alphabetically first.
  static Kallsyms parse(std::string_view text);

  std::optional<ResolvedAddress> resolve(uint64_t addr) const;
  size_t size() const { return syms_.size(); }
  // True when every address read as 0: kptr_restrict hides them from us.
  bool addresses_hidden() const { return hidden_; }

 private:
  struct Sym {
    uint64_t addr;
    std::string name;
    std::string module;
    bool global;
  };
  std::vector<Sym> syms_;
  bool hidden_ = false;
};

// "name+0x1a" or "name+0x1a [module]"; "0x..." only if the caller allows raw
// addresses, else "[unknown]".
std::string format_frame(const std::optional<ResolvedAddress>& r, uint64_t addr, bool show_address);

}  // namespace slableak
