#include "kallsyms.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

using namespace slableak;

namespace {

const char kText[] =
    "ffffffff81000000 T _stext\n"
    "ffffffff81000100 t a_helper_local\n"  // alphabetically first, but local
    "ffffffff81000100 T helper_global\n"
    "ffffffff81000200 T __pfx_real_fn\n"
    "ffffffff81000200 T real_fn\n"
    "ffffffff81000300 T zeta\n"
    "ffffffff81000300 T alpha\n"
    "ffffffff81000400 D some_data\n"
    "ffffffff81000500 T last_core\n"
    "ffffffffc0a01000 t mod_fn\t[mymod]\n"
    "ffffffffc0a01100 T mod_fn2\t[mymod]\n";

}  // namespace

TEST(Kallsyms, DuplicateAddresses) {
  const auto k = Kallsyms::parse(kText);
  EXPECT_FALSE(k.addresses_hidden());
  EXPECT_EQ(k.size(), 7u);  // data symbol dropped, duplicates folded
  auto r = k.resolve(0xffffffff81000100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "helper_global");  // global beats local
  r = k.resolve(0xffffffff81000200);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "real_fn");  // __pfx_ loses
  r = k.resolve(0xffffffff81000300);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "alpha");  // then alphabetical
}

TEST(Kallsyms, LookupBoundaries) {
  const auto k = Kallsyms::parse(kText);
  auto r = k.resolve(0xffffffff81000000);  // exactly at a symbol start
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "_stext");
  EXPECT_EQ(r->offset, 0u);
  EXPECT_TRUE(r->module.empty());
  EXPECT_FALSE(k.resolve(0xffffffff80ffffff));  // one before the first symbol
  r = k.resolve(0xffffffff810002ff);             // last byte of real_fn
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "real_fn");
  EXPECT_EQ(r->offset, 0xffu);
  r = k.resolve(0xffffffff81000410);  // a data symbol does not end the text before it
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "alpha");
  EXPECT_EQ(r->offset, 0x110u);
  r = k.resolve(0xffffffffc0a01000 + 0x2a);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "mod_fn");
  EXPECT_EQ(r->module, "mymod");
  EXPECT_EQ(r->offset, 0x2au);
  r = k.resolve(0xffffffffc0a01100 + (1u << 20) - 1);  // just under 1 MiB past the last symbol
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "mod_fn2");
  EXPECT_FALSE(k.resolve(0xffffffffc0a01100 + (1u << 20) + 0x1000));  // far past: not credible
}

TEST(Kallsyms, HiddenAddresses) {
  const auto k = Kallsyms::parse(
      "0000000000000000 T _stext\n"
      "0000000000000000 t helper\n"
      "0000000000000000 D data\n"
      "0000000000000000 t mod_fn\t[mymod]\n");
  EXPECT_TRUE(k.addresses_hidden());
  EXPECT_EQ(k.size(), 0u);
  EXPECT_FALSE(k.resolve(0xffffffff81000000));
  EXPECT_FALSE(Kallsyms::parse("").addresses_hidden());
}

// tests/data/kallsyms_excerpt.txt: lines of /proc/kallsyms of a 6.18 host.
TEST(Kallsyms, RealExcerpt) {
  std::ifstream f(std::string(TESTDATA_DIR) + "/kallsyms_excerpt.txt");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  ASSERT_FALSE(text.empty());
  const auto k = Kallsyms::parse(text);
  EXPECT_EQ(k.size(), 33u);
  auto r = k.resolve(0xffffffff816475a0 + 0x5a);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "__kmalloc_noprof");
  EXPECT_EQ(r->offset, 0x5au);
  r = k.resolve(0xffffffff81a9f7d0 + 0x1c1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "do_msgsnd");
  r = k.resolve(0xffffffffc0201000 + 0x10);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "ftrace_trampoline");
  EXPECT_EQ(r->module, "__builtin__ftrace");
  // In .rodata, 1.6 MiB past the last text symbol before it.
  EXPECT_FALSE(k.resolve(0xffffffff82400010));
}

TEST(Kallsyms, FormatFrame) {
  const std::string name = "load_msg", mod = "mymod";
  const ResolvedAddress core{name, {}, 0x1a};
  const ResolvedAddress in_mod{name, mod, 0x1a};
  EXPECT_EQ(format_frame(core, 0xffffffff81000000, false), "load_msg+0x1a");
  EXPECT_EQ(format_frame(in_mod, 0xffffffffc0a0101a, false), "load_msg+0x1a [mymod]");
  EXPECT_EQ(format_frame(std::nullopt, 0xffffffff81234567, false), "[unknown]");
  const std::string shown = format_frame(core, 0xffffffff8100001a, true);
  EXPECT_EQ(shown.rfind("load_msg+0x1a", 0), 0u) << shown;
  EXPECT_NE(shown.find("0xffffffff8100001a"), std::string::npos) << shown;
  const std::string raw = format_frame(std::nullopt, 0xffffffff81234567, true);
  EXPECT_NE(raw.find("0xffffffff81234567"), std::string::npos) << raw;
}

TEST(Kallsyms, FormatFunction) {
  const std::string name = "load_msg", mod = "mymod";
  EXPECT_EQ(format_function(ResolvedAddress{name, {}, 0x1a}), "load_msg");
  EXPECT_EQ(format_function(ResolvedAddress{name, mod, 0x1a}), "load_msg [mymod]");
  EXPECT_EQ(format_function(std::nullopt), "[unknown]");
}

namespace {

// Every address kText names, its neighbours and the offset limit: what a
// table answers for them, as text.
std::string answers(const Kallsyms& k) {
  std::string out;
  for (uint64_t base : {0xffffffff81000000ull, 0xffffffff81000100ull, 0xffffffff81000200ull, 0xffffffff81000300ull,
                        0xffffffff81000400ull, 0xffffffff81000500ull, 0xffffffffc0a01000ull, 0xffffffffc0a01100ull})
    for (uint64_t a : {base - 1, base, base + 1, base + 0x7f, base + (1u << 20) - 1, base + (1u << 20)})
      out += format_frame(k.resolve(a), a, false) + "\n";
  return out;
}

}  // namespace

// /proc/kallsyms is read in pieces: any split, even inside a line or right
// after a newline, must give the table that the whole text gives.
TEST(Kallsyms, BuilderTakesAnySplit) {
  const std::string text = kText;
  const Kallsyms whole = Kallsyms::parse(text);
  const std::string expect = answers(whole);
  for (size_t piece : {1u, 2u, 3u, 7u, 26u, 27u, 64u, 4096u}) {
    Kallsyms::Builder b;
    for (size_t at = 0; at < text.size(); at += piece) b.feed(std::string_view(text).substr(at, piece));
    const Kallsyms k = b.finish();
    EXPECT_EQ(k.size(), whole.size()) << "piece " << piece;
    EXPECT_EQ(answers(k), expect) << "piece " << piece;
  }
  // The last line needs no newline.
  Kallsyms::Builder b;
  b.feed("ffffffff81000000 T _stext\nffffffff81000100 T tail");
  const Kallsyms k = b.finish();
  ASSERT_EQ(k.size(), 2u);
  ASSERT_TRUE(k.resolve(0xffffffff81000101));
  EXPECT_EQ(k.resolve(0xffffffff81000101)->name, "tail");
}

// "__pfx_fn" and the "fn" right after it share their name bytes; each
// still resolves to its own name.
TEST(Kallsyms, PaddingSymbolSharesTheFunctionName) {
  std::string text, plain;
  for (int i = 0; i < 1000; ++i) {
    char line[128];
    const unsigned long long a = 0xffffffff81000000ull + 0x100ull * i;
    std::snprintf(line, sizeof line, "%llx T __pfx_some_function_name_%04d\n%llx T some_function_name_%04d\n", a, i,
                  a + 0x10, i);
    text += line;
    std::snprintf(line, sizeof line, "%llx T some_function_name_%04d\n", a + 0x10, i);
    plain += line;
  }
  const Kallsyms k = Kallsyms::parse(text);
  ASSERT_EQ(k.size(), 2000u);
  auto r = k.resolve(0xffffffff81000000ull + 0x100 * 42 + 3);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "__pfx_some_function_name_0042");
  EXPECT_EQ(r->offset, 3u);
  r = k.resolve(0xffffffff81000000ull + 0x100 * 42 + 0x10 + 5);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "some_function_name_0042");
  // The padding names cost no more than the functions' alone would (plus
  // "__pfx_" each), about half of storing both.
  const Kallsyms only = Kallsyms::parse(plain);
  EXPECT_LE(k.memory_bytes(), only.memory_bytes() + 1000 * (16 + 6) + 64);
}

TEST(Kallsyms, OverlongNamesAreSkipped) {
  const std::string longname(Kallsyms::kMaxName + 1, 'x');
  const Kallsyms k = Kallsyms::parse("ffffffff81000000 T ok\nffffffff81000100 T " + longname +
                                     "\nffffffff81000200 T fine\n");
  EXPECT_EQ(k.size(), 2u);
  ASSERT_TRUE(k.resolve(0xffffffff81000101));
  EXPECT_EQ(k.resolve(0xffffffff81000101)->name, "ok");  // as if the long one were not there
  const std::string longest(Kallsyms::kMaxName, 'y');
  const Kallsyms k2 = Kallsyms::parse("ffffffff81000000 T " + longest + "\n");
  ASSERT_TRUE(k2.resolve(0xffffffff81000000));
  EXPECT_EQ(k2.resolve(0xffffffff81000000)->name, longest);
}

// 16 bytes a symbol plus the names: the table of the real excerpt.
TEST(Kallsyms, CompactTable) {
  std::ifstream f(std::string(TESTDATA_DIR) + "/kallsyms_excerpt.txt");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  const auto k = Kallsyms::parse(text);
  size_t names = 0;
  for (std::string_view rest = text; !rest.empty();) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    names += line.size();
  }
  EXPECT_LE(k.memory_bytes(), 16 * k.size() + names);
}

namespace slableak {
namespace {

TEST(KallsymsCoreAddresses, CoreTextOnlyInAddressOrder) {
  const Kallsyms k = Kallsyms::parse(
      "ffffffff81000200 T b_func\n"
      "ffffffff81000100 t a_func\n"
      "ffffffff82000000 D some_data\n"
      "ffffffffc0000000 t mod_func\t[mod]\n");
  EXPECT_EQ(k.core_addresses(), (std::vector<uint64_t>{0xffffffff81000100ull, 0xffffffff81000200ull}));
}

}  // namespace
}  // namespace slableak
