#include "kallsyms.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>

namespace slableak {
namespace {

// Past the last symbol of a region we do not know where its text ends; an
// offset beyond this is not a credible "symbol+offset".
constexpr uint64_t kMaxOffset = 1 << 20;
constexpr std::string_view kPfx = "__pfx_";

bool is_text(char type) { return type == 't' || type == 'T' || type == 'w' || type == 'W'; }

}  // namespace

Kallsyms Kallsyms::parse(std::string_view text) {
  Builder b;
  b.feed(text);
  return b.finish();
}

void Kallsyms::Builder::feed(std::string_view chunk) {
  while (!chunk.empty()) {
    const size_t nl = chunk.find('\n');
    if (nl == std::string_view::npos) {
      // A line longer than any real one (its name would be skipped anyway)
      // is dropped as it comes: a file of zeros mounted over
      // /proc/kallsyms cannot make us buffer it whole.
      if (overlong_ || partial_.size() + chunk.size() > kMaxLine) {
        overlong_ = true;
        std::string().swap(partial_);
      } else {
        partial_.append(chunk);
      }
      return;
    }
    if (overlong_) {
      overlong_ = false;
    } else if (partial_.empty()) {
      add_line(chunk.substr(0, nl));
    } else {
      partial_.append(chunk.substr(0, nl));
      add_line(partial_);
      partial_.clear();
    }
    chunk.remove_prefix(nl + 1);
  }
}

uint32_t Kallsyms::Builder::module_index(std::string_view module) {
  if (module.empty()) return 0;
  if (k_.modules_[last_module_] == module) return last_module_;
  auto [it, fresh] = module_ids_.try_emplace(std::string(module), static_cast<uint32_t>(k_.modules_.size()));
  if (fresh) k_.modules_.emplace_back(module);
  last_module_ = it->second;
  return it->second;
}

void Kallsyms::Builder::add_line(std::string_view line) {
  // "ffffffff81000000 T _stext" or "ffffffffc0a01000 t fn\t[mod]"
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 + 3 > line.size() || line[sp1 + 2] != ' ') return;
  uint64_t addr = 0;
  auto [p, ec] = std::from_chars(line.data(), line.data() + sp1, addr, 16);
  if (ec != std::errc() || p != line.data() + sp1) return;
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
  if (rest.empty()) return;
  ++lines_;
  if (addr == 0) {
    ++zero_addrs_;
    return;
  }
  if (!is_text(type) || rest.size() > kMaxName) return;
  const uint32_t mod = module_index(module);
  if (mod > std::numeric_limits<uint16_t>::max()) return;  // only a forged file has 65k modules

  // The kernel lists "__pfx_fn" (the padding before fn) right before "fn":
  // point fn's name into the padding symbol's, saving half the name bytes.
  auto& names = k_.names_;
  size_t at;
  if (last_name_len_ == kPfx.size() + rest.size() &&
      std::string_view(names.data() + last_name_, last_name_len_).substr(kPfx.size()) == rest &&
      std::string_view(names.data() + last_name_, kPfx.size()) == kPfx) {
    at = last_name_ + kPfx.size();
  } else {
    at = names.size();
    if (at + rest.size() > std::numeric_limits<uint32_t>::max()) return;
    names.append(rest);
    last_name_ = at;
    last_name_len_ = rest.size();
  }
  Sym s{};
  s.addr = addr;
  s.name = static_cast<uint32_t>(at);
  s.name_len = static_cast<uint32_t>(rest.size()) & kMaxName;
  s.global = type == 'T' || type == 'W';
  s.module = mod;
  k_.syms_.push_back(s);
}

Kallsyms Kallsyms::Builder::finish() {
  if (!partial_.empty()) {
    add_line(partial_);
    partial_.clear();
  }
  Kallsyms& k = k_;
  k.hidden_ = lines_ > 0 && zero_addrs_ == lines_;
  auto better = [&k](const Sym& a, const Sym& b) {
    if (a.addr != b.addr) return a.addr < b.addr;
    const std::string_view an = k.name_of(a), bn = k.name_of(b);
    const bool apfx = an.substr(0, kPfx.size()) == kPfx, bpfx = bn.substr(0, kPfx.size()) == kPfx;
    if (apfx != bpfx) return !apfx;
    if (a.global != b.global) return a.global != 0;
    return an < bn;
  };
  std::sort(k.syms_.begin(), k.syms_.end(), better);
  k.syms_.erase(std::unique(k.syms_.begin(), k.syms_.end(),
                            [](const Sym& a, const Sym& b) { return a.addr == b.addr; }),
                k.syms_.end());
  // Growth by doubling left up to half of each unused; the table lives as
  // long as the process.
  k.syms_.shrink_to_fit();
  k.names_.shrink_to_fit();
  module_ids_.clear();
  return std::move(k_);
}

size_t Kallsyms::memory_bytes() const {
  size_t n = syms_.capacity() * sizeof(Sym) + names_.capacity() + modules_.capacity() * sizeof(std::string);
  for (const auto& m : modules_) n += m.capacity() > 15 ? m.capacity() + 1 : 0;
  return n;
}

std::vector<uint64_t> Kallsyms::core_addresses() const {
  std::vector<uint64_t> out;
  for (const auto& s : syms_)
    if (s.module == 0) out.push_back(s.addr);
  return out;
}

std::optional<ResolvedAddress> Kallsyms::resolve(uint64_t addr) const {
  auto it = std::upper_bound(syms_.begin(), syms_.end(), addr,
                             [](uint64_t a, const Sym& s) { return a < s.addr; });
  if (it == syms_.begin()) return std::nullopt;
  --it;
  const uint64_t off = addr - it->addr;
  if (off >= kMaxOffset) return std::nullopt;
  return ResolvedAddress{name_of(*it), modules_[it->module], off};
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

std::string format_function(const std::optional<ResolvedAddress>& r) {
  if (!r) return "[unknown]";
  std::string fn(r->name);
  if (!r->module.empty()) fn += " [" + std::string(r->module) + "]";
  return fn;
}

std::string function_of_frame(std::string_view frame) {
  // " (0x...)" at the end: the raw address of --show-addresses.
  if (frame.size() > 4 && frame.back() == ')') {
    const size_t open = frame.rfind(" (0x");
    if (open != std::string_view::npos) frame = frame.substr(0, open);
  }
  std::string_view module;
  if (!frame.empty() && frame.back() == ']') {
    const size_t open = frame.rfind(" [");
    if (open != std::string_view::npos && open > 0) {
      module = frame.substr(open);
      frame = frame.substr(0, open);
    }
  }
  // "+0x1a" at the end of the name; a name may itself contain '+' (not in
  // kallsyms, but keep it unless a hex offset follows).
  const size_t plus = frame.rfind("+0x");
  if (plus != std::string_view::npos && plus > 0 &&
      frame.find_first_not_of("0123456789abcdef", plus + 3) == std::string_view::npos && frame.size() > plus + 3)
    frame = frame.substr(0, plus);
  return std::string(frame) + std::string(module);
}

FrameParts parse_frame(std::string_view frame) {
  FrameParts p;
  auto hex = [](std::string_view h, uint64_t& out) {
    if (h.empty() || h.size() > 16 || h.find_first_not_of("0123456789abcdef") != std::string_view::npos) return false;
    out = std::stoull(std::string(h), nullptr, 16);
    return true;
  };
  // " (0x...)": the raw address of --show-addresses.
  if (frame.size() > 5 && frame.back() == ')') {
    const size_t open = frame.rfind(" (0x");
    if (open != std::string_view::npos && hex(frame.substr(open + 4, frame.size() - open - 5), p.address))
      frame = frame.substr(0, open);
  }
  if (!frame.empty() && frame.back() == ']') {
    const size_t open = frame.rfind(" [");
    if (open != std::string_view::npos && open > 0) {
      p.module = std::string(frame.substr(open + 2, frame.size() - open - 3));
      frame = frame.substr(0, open);
    }
  }
  const size_t plus = frame.rfind("+0x");
  if (plus != std::string_view::npos && plus > 0 && hex(frame.substr(plus + 3), p.offset)) frame = frame.substr(0, plus);
  p.symbol = std::string(frame);
  return p;
}

}  // namespace slableak
