// /proc/kallsyms as a sorted table of text symbols: address -> symbol+offset.
//
// Kept compact because the daemon holds it for its whole life: 16 bytes per
// symbol (address, offset of the name in one shared string, module index)
// plus the names, where a "__pfx_foo" padding symbol and the "foo" that
// follows it share their bytes. On a 6.18 host (122k text symbols) that is
// ~4 MiB where one std::string per name and module took ~14 MiB.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace slableak {

struct ResolvedAddress {
  std::string_view name;
  std::string_view module;  // empty for the core kernel
  uint64_t offset = 0;
};

class Kallsyms {
 public:
  class Builder;

  // Parses kallsyms text. Only text symbols (t, T, w, W) are kept. Where
  // several names share an address, a global one wins over a local one and a
  // real name over a "__pfx_" padding symbol, then the alphabetically first.
  // Names longer than kMaxName bytes are skipped (the kernel's own limit,
  // KSYM_NAME_LEN, is 512).
  static Kallsyms parse(std::string_view text);

  std::optional<ResolvedAddress> resolve(uint64_t addr) const;
  size_t size() const { return syms_.size(); }
  // True when every address read as 0: kptr_restrict hides them from us.
  bool addresses_hidden() const { return hidden_; }
  // Heap bytes the table holds (for the benchmark's accounting).
  size_t memory_bytes() const;
  // Addresses of the core kernel's text symbols (the benchmark draws
  // synthetic frames from them).
  std::vector<uint64_t> core_addresses() const;

  // The core kernel's text from the first symbol @match accepts to the end of
  // the last one (the next symbol's address), or nullopt if none matches.
  struct TextSpan {
    uint64_t begin = 0, end = 0;
  };
  template <typename Match>
  std::optional<TextSpan> core_text_of(Match match) const {
    std::optional<TextSpan> out;
    for (size_t i = 0; i < syms_.size(); ++i) {
      const Sym& s = syms_[i];
      if (s.module != 0 || !match(name_of(s))) continue;
      const uint64_t end = i + 1 < syms_.size() ? syms_[i + 1].addr : s.addr + 1;
      if (!out) out = TextSpan{s.addr, end};
      out->end = end;
    }
    return out;
  }

  static constexpr size_t kMaxName = 0x7fff;

 private:
  struct Sym {
    uint64_t addr;
    uint32_t name;          // offset into names_
    uint32_t name_len : 15;
    uint32_t global : 1;    // only needed to choose between names sharing an address
    uint32_t module : 16;   // index into modules_, 0 = core kernel
  };
  static_assert(sizeof(Sym) == 16);
  std::string_view name_of(const Sym& s) const { return {names_.data() + s.name, s.name_len}; }

  std::vector<Sym> syms_;
  std::string names_;
  std::vector<std::string> modules_{""};
  bool hidden_ = false;
};

// Builds a Kallsyms from text fed in pieces of any size, so that the 5+ MiB
// of /proc/kallsyms never has to be held at once: only the current partial
// line is buffered.
class Kallsyms::Builder {
 public:
  void feed(std::string_view chunk);
  // Takes the last line even without a final newline.
  Kallsyms finish();

 private:
  void add_line(std::string_view line);
  uint32_t module_index(std::string_view module);

  Kallsyms k_;
  // Longest line kept: a name of kMaxName bytes with its address, type and
  // module.
  static constexpr size_t kMaxLine = kMaxName + 1024;
  std::string partial_;    // a line split across two chunks
  bool overlong_ = false;  // dropping the rest of a line longer than kMaxLine
  std::unordered_map<std::string, uint32_t> module_ids_;
  uint32_t last_module_ = 0;  // lines of one module come together: skip the lookup
  size_t last_name_ = 0, last_name_len_ = 0;  // the previous name appended to names_
  size_t zero_addrs_ = 0, lines_ = 0;
};

// "name+0x1a" or "name+0x1a [module]"; "0x..." only if the caller allows raw
// addresses, else "[unknown]".
std::string format_frame(const std::optional<ResolvedAddress>& r, uint64_t addr, bool show_address);
// The same frame without its offset: "name" or "name [module]", "[unknown]".
std::string format_function(const std::optional<ResolvedAddress>& r);
// The inverse on printed text: a frame as format_frame() wrote it, with or
// without the raw address, -> its format_function() form. Lets reports made
// on two builds of a kernel (offsets moved) be matched by function.
std::string function_of_frame(std::string_view frame);

// A frame as format_frame() printed it, taken apart: "name+0x1a [mod] (0x...)".
struct FrameParts {
  std::string symbol;  // "name", or the whole text when it is not a symbol ("[unknown]")
  std::string module;  // "" for the kernel image
  uint64_t offset = 0;
  uint64_t address = 0;  // 0 unless printed (--show-addresses)
};
FrameParts parse_frame(std::string_view frame);
// parse_frame(frame).symbol: what stack_fn_id reads (allocation_site.h).
inline std::string symbol_of_frame(std::string_view frame) { return parse_frame(frame).symbol; }

}  // namespace slableak
