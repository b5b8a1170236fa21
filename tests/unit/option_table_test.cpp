// The option table that `slableak --dump-options-json` prints (and the docs
// test reads) is the parser's: every limit and choice listed there is what
// parse_run_config really enforces, and every option that takes a number,
// a duration or a word is listed.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>
#include <set>

#include "error.h"
#include "run_config.h"

using namespace slableak;

namespace {

ParseResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "slableak");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_run_config(static_cast<int>(argv.size()), argv.data());
}

bool accepted(std::vector<std::string> args, std::string* why = nullptr) {
  if (!args.empty() && args[0] == "run") args.insert(args.end(), {"--", "true"});  // run needs its COMMAND
  if (!args.empty() && args[0] == "diff") args.insert(args.end(), {"a.json", "b.json"});  // diff needs two files
  // Options that mean something only with another one, which they need.
  const auto with = [&](const char* opt, std::initializer_list<std::string> needed) {
    if (std::find(args.begin(), args.end(), opt) != args.end()) args.insert(args.end(), needed);
  };
  with("--push-interval", {"--push-pprof", "http://127.0.0.1:4040"});
  with("--capture-keep", {"--capture-dir", "/var/lib/slableak/captures"});
  try {
    return parse(args).config.has_value();
  } catch (const Error& e) {
    if (why) *why = e.what();
    return false;
  }
}

nlohmann::json dump() {
  const ParseResult r = parse({"--dump-options-json"});
  EXPECT_FALSE(r.config.has_value());
  EXPECT_EQ(r.exit_code, 0);
  return nlohmann::json::parse(r.text);
}

// Options whose value is free text, checked elsewhere (cache names, paths,
// addresses): everything else that takes a value must be in the tables.
// The capture sizes and rules have their own parsers (model/capture_plan.h),
// tested in capture_plan_test.cpp.
const std::set<std::string> kFreeText = {"--cache",         "--textfile-dir",           "--listen",
                                         "--capture-dir",   "--capture-max-bytes",      "--capture-when-sunreclaim",
                                         "--capture-when-growth", "--push-pprof"};

}  // namespace

TEST(OptionTable, DumpListsEveryCommandAndTheExitCodes) {
  const auto j = dump();
  for (const char* cmd : {"snapshot", "top", "export", "triage", "caches", "check", "run", "diff", "captures"})
    EXPECT_TRUE(j.at("commands").contains(cmd)) << cmd;
  std::vector<int> codes;
  for (const auto& e : j.at("exit_codes")) codes.push_back(e.at("code").get<int>());
  EXPECT_EQ(codes, (std::vector<int>{0, 1, 2, 3, 4, 126, 127}));
  EXPECT_EQ(j.at("exit_codes")[2].at("name"), "usage");
}

TEST(OptionTable, EveryValueOptionIsLimitedOrChosenOrFreeText) {
  const auto j = dump();
  for (const auto& [cmd, opts] : j.at("commands").items())
    for (const auto& o : opts) {
      if (o.at("flag").get<bool>()) continue;
      const std::string name = o.at("names").back();
      EXPECT_TRUE(o.contains("kind") || o.contains("choices") || kFreeText.count(name))
          << cmd << " " << name << ": add it to option_limits() or option_choices() (run_config.cpp)";
    }
}

// Each limit of the table is the parser's: the bounds pass, one step
// beyond fails with a usage error naming the option.
TEST(OptionTable, LimitsAreWhatTheParserEnforces) {
  const auto j = dump();
  int checked = 0;
  for (const auto& [cmd, opts] : j.at("commands").items())
    for (const auto& o : opts) {
      if (!o.contains("kind")) continue;
      const std::string name = o.at("names").back(), kind = o.at("kind");
      const uint64_t lo = o.at("min"), hi = o.at("max");
      auto ok = [&](const std::string& v) {
        std::string why;
        EXPECT_TRUE(accepted({cmd, name, v}, &why)) << cmd << " " << name << " " << v << ": " << why;
      };
      auto refused = [&](const std::string& v) {
        std::string why;
        EXPECT_FALSE(accepted({cmd, name, v}, &why)) << cmd << " " << name << " " << v << " accepted";
        EXPECT_NE(why.find(name), std::string::npos) << why;
      };
      if (kind == "count") {
        ok(std::to_string(lo));
        ok(std::to_string(hi));
        if (lo > 0) refused(std::to_string(lo - 1));
        refused(std::to_string(hi + 1));
      } else {
        EXPECT_EQ(hi, 365u * 86400) << name;
        ok("365d");
        refused("365d1s");
        if (kind == "duration_or_zero") {
          for (const char* zero : {"0", "0s", "0ms", "0.0m"}) ok(zero);
        } else {
          for (const char* zero : {"0", "0s", "0ms"}) refused(zero);
        }
      }
      ++checked;
    }
  EXPECT_GE(checked, 20);
}

// Each choice list is the parser's: every word passes, another fails with
// a message that lists exactly these words.
TEST(OptionTable, ChoicesAreWhatTheParserAccepts) {
  const auto j = dump();
  int checked = 0;
  for (const auto& [cmd, opts] : j.at("commands").items())
    for (const auto& o : opts) {
      if (!o.contains("choices")) continue;
      const std::string name = o.at("names").back();
      std::string listed;
      for (const auto& c : o.at("choices")) {
        const std::string v = c;
        std::string why;
        EXPECT_TRUE(accepted({cmd, name, v}, &why)) << cmd << " " << name << " " << v << ": " << why;
        listed += (listed.empty() ? "" : ", ") + v;
      }
      std::string why;
      EXPECT_FALSE(accepted({cmd, name, "no-such-word"}, &why));
      EXPECT_NE(why.find("use " + listed), std::string::npos) << why << " (table: " << listed << ")";
      ++checked;
    }
  EXPECT_GE(checked, 8);
}

// The defaults printed are the ones the parser applies.
TEST(OptionTable, DefaultsAreTheParsersDefaults) {
  const auto j = dump();
  auto default_of = [&](const std::string& cmd, const std::string& name) -> std::string {
    for (const auto& o : j.at("commands").at(cmd))
      if (o.at("names").back() == name) return o.at("default");
    return "?";
  };
  const RunConfig snap = parse({"snapshot"}).config.value();
  const RunConfig exp = parse({"export"}).config.value();
  EXPECT_EQ(default_of("snapshot", "--max-tracked"), "1M");
  EXPECT_EQ(snap.trace.max_tracked, 1'000'000u);
  EXPECT_EQ(default_of("export", "--max-tracked"), std::to_string(exp.trace.max_tracked));
  EXPECT_EQ(default_of("export", "--sample-every"), std::to_string(exp.trace.sample_every));
  EXPECT_EQ(default_of("snapshot", "--sample-every"), std::to_string(snap.trace.sample_every));
  EXPECT_EQ(default_of("snapshot", "--cache"), snap.trace.caches.front());
  EXPECT_EQ(default_of("snapshot", "--max-stacks"), std::to_string(snap.trace.max_stacks));
  EXPECT_EQ(default_of("snapshot", "--top"), std::to_string(snap.report.top));
  EXPECT_EQ(default_of("export", "--top-stacks"), std::to_string(exp.exporter.top_stacks));
  EXPECT_EQ(default_of("export", "--textfile-dir"), exp.exporter.textfile_dir);
}

// An option the command does not have: the closest one it has, if any.
TEST(OptionTable, UnknownOptionSaysTheClosest) {
  auto message = [](std::vector<std::string> args) {
    try {
      parse(args);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::usage);
      return std::string(e.what());
    }
    ADD_FAILURE() << "accepted";
    return std::string();
  };
  EXPECT_NE(message({"snapshot", "--max-stack", "64"}).find("did you mean --max-stacks?"), std::string::npos);
  EXPECT_NE(message({"export", "--textfile-directory=/tmp"}).find("did you mean --textfile-dir?"), std::string::npos);
  EXPECT_NE(message({"top", "--intervall", "1s"}).find("did you mean --interval?"), std::string::npos);
  EXPECT_EQ(message({"snapshot", "--zzzzzzzzzzzzzzzzzzz"}).find("did you mean"), std::string::npos);
  // One line, whatever was typed.
  EXPECT_EQ(message({"snapshot", "--a\nb"}).find('\n'), std::string::npos);
}

// --listen takes the host forms the server binds, decided by the parser.
TEST(OptionTable, ListenHostForms) {
  for (const char* ok : {"127.0.0.1:9435", "[::1]:9435", "localhost:9435", "0.0.0.0:1"}) {
    std::string why;
    EXPECT_TRUE(accepted({"export", "--listen", ok}, &why)) << ok << ": " << why;
  }
  for (const char* bad : {"example.com:9435", "256.1.1.1:9435", "::1:9435", "\x1b]0;x:9435"}) {
    std::string why;
    EXPECT_FALSE(accepted({"export", "--listen", bad}, &why)) << bad;
    EXPECT_NE(why.find("--listen"), std::string::npos) << why;
    EXPECT_EQ(why.find('\x1b'), std::string::npos) << "escape echoed raw";
  }
}
