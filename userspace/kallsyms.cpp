#include "kallsyms.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace slableak {
namespace {

// Past the last symbol of a region we do not know where its text ends; an
// offset beyond this is not a credible "symbol+offset".
constexpr uint64_t kMaxOffset = 1 << 20;

bool is_text(char type) { return type == 't' || type == 'T' || type == 'w' || type == 'W'; }

}  // namespace

Kallsyms Kallsyms::parse(std::string_view text) {
  Kallsyms k;
  size_t zero_addrs = 0, lines = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    // "ffffffff81000000 T _stext" or "ffffffffc0a01000 t fn\t[mod]"
    size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 + 3 > line.size() || line[sp1 + 2] != ' ') continue;
    uint64_t addr = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + sp1, addr, 16);
    if (ec != std::errc() || p != line.data() + sp1) continue;
    const char type = line[sp1 + 1];
    std::string_view rest = line.substr(sp1 + 3);
    std::string_view module;
    size_t tab = rest.find('\t');
    if (tab != std::string_view::npos) {
      module = rest.substr(tab + 1);
      rest = rest.substr(0, tab);
      if (module.size() >= 2 && module.front() == '[' && module.back() == ']')
        module = module.substr(1, module.size() - 2);
    }
    if (rest.empty()) continue;
    ++lines;
    if (addr == 0) {
      ++zero_addrs;
      continue;
    }
    if (!is_text(type)) continue;
    k.syms_.push_back(Sym{addr, std::string(rest), std::string(module), type == 'T' || type == 'W'});
  }
  k.hidden_ = lines > 0 && zero_addrs == lines;
  auto better = [](const Sym& a, const Sym& b) {
    if (a.addr != b.addr) return a.addr < b.addr;
    const bool apfx = a.name.rfind("__pfx_", 0) == 0, bpfx = b.name.rfind("__pfx_", 0) == 0;
    if (apfx != bpfx) return !apfx;
    if (a.global != b.global) return a.global;
    return a.name < b.name;
  };
  std::sort(k.syms_.begin(), k.syms_.end(), better);
  k.syms_.erase(std::unique(k.syms_.begin(), k.syms_.end(),
                            [](const Sym& a, const Sym& b) { return a.addr == b.addr; }),
                k.syms_.end());
  return k;
}

std::optional<ResolvedAddress> Kallsyms::resolve(uint64_t addr) const {
  auto it = std::upper_bound(syms_.begin(), syms_.end(), addr,
                             [](uint64_t a, const Sym& s) { return a < s.addr; });
  if (it == syms_.begin()) return std::nullopt;
  --it;
  const uint64_t off = addr - it->addr;
  if (off >= kMaxOffset) return std::nullopt;
  return ResolvedAddress{it->name, it->module, off};
}

std::string format_frame(const std::optional<ResolvedAddress>& r, uint64_t addr, bool show_address) {
  char buf[32];
  std::string out;
  if (r) {
    std::snprintf(buf, sizeof buf, "+0x%llx", static_cast<unsigned long long>(r->offset));
    out = std::string(r->name) + buf;
    if (!r->module.empty()) out += " [" + std::string(r->module) + "]";
  } else {
    out = "[unknown]";
  }
  if (show_address) {
    std::snprintf(buf, sizeof buf, " (0x%llx)", static_cast<unsigned long long>(addr));
    out += buf;
  }
  return out;
}

}  // namespace slableak
