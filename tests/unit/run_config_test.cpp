// argv -> RunConfig: every bad option is a one-line usage error naming the
// option, decided without root or the kernel.
#include "run_config.h"

#include <gtest/gtest.h>

#include <cctype>

#include "error.h"

using namespace slableak;

namespace {

ParseResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "slableak");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_run_config(static_cast<int>(argv.size()), argv.data());
}

std::string usage_message(const std::vector<std::string>& args) {
  try {
    parse(args);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return {};
}

}  // namespace

TEST(RunConfig, Defaults) {
  const auto snap = parse({"snapshot"}).config.value();
  EXPECT_EQ(snap.command, Command::snapshot);
  EXPECT_EQ(snap.trace.caches, std::vector<std::string>{"kmalloc-2k"});
  EXPECT_EQ(snap.trace.sample_every, 1u);
  EXPECT_EQ(snap.trace.max_tracked, 1'000'000u);
  EXPECT_DOUBLE_EQ(snap.report.duration.count(), 30);
  EXPECT_DOUBLE_EQ(snap.trace.growth_window.count(), 60);
  const auto exp = parse({"export"}).config.value();
  EXPECT_EQ(exp.trace.sample_every, 64u);
  EXPECT_EQ(exp.trace.max_tracked, 262144u);
  EXPECT_DOUBLE_EQ(exp.exporter.interval.count(), 15);
  EXPECT_DOUBLE_EQ(exp.trace.growth_window.count(), 300);
}

TEST(RunConfig, ValuesAreTyped) {
  const auto c = parse({"snapshot", "-d", "2m", "--min-age", "0ms", "--top", "0", "-f", "json", "--sort", "growth",
                        "-c", "kmalloc-cg-2k", "-c", "msg_msg-2k", "--method", "derived", "--max-tracked", "2M",
                        "--sample-every", "16"})
                     .config.value();
  EXPECT_DOUBLE_EQ(c.report.duration.count(), 120);
  EXPECT_DOUBLE_EQ(c.report.min_age.count(), 0);
  EXPECT_EQ(c.report.top, 0u);
  EXPECT_EQ(c.report.format, Format::json);
  EXPECT_EQ(c.report.sort, SortKey::growth);
  EXPECT_EQ(c.trace.method, CacheMethod::derived);
  EXPECT_EQ(c.trace.max_tracked, 2'000'000u);
  EXPECT_EQ(c.trace.sample_every, 16u);
  EXPECT_EQ(c.trace.caches.size(), 2u);
}

TEST(RunConfig, HelpAndVersionPrintAndExitZero) {
  const auto h = parse({"snapshot", "--help"});
  EXPECT_FALSE(h.config);
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.text.find("--duration"), std::string::npos);
  const auto v = parse({"--version"});
  EXPECT_NE(v.text.find("slableak "), std::string::npos);
}

// {args, a piece the message must contain (the option it names)}.
struct Bad {
  std::vector<std::string> args;
  std::string names;
};

class BadOption : public testing::TestWithParam<Bad> {};

// The arguments as a test name ctest can show: letters and digits, runs of
// anything else as one '_', each argument cut to 24 characters.
std::string test_name_of(const std::vector<std::string>& args) {
  std::string name;
  for (const auto& a : args) {
    std::string word;
    for (char c : a.substr(0, 24)) {
      if (std::isalnum(static_cast<unsigned char>(c)))
        word += c;
      else if (!word.empty() && word.back() != '_')
        word += '_';
    }
    while (!word.empty() && word.back() == '_') word.pop_back();
    if (!word.empty()) name += (name.empty() ? "" : "_") + word;
  }
  return name.empty() ? "no_arguments" : name;
}

TEST_P(BadOption, IsAOneLineUsageErrorNamingTheOption) {
  const std::string msg = usage_message(GetParam().args);
  EXPECT_NE(msg.find(GetParam().names), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_LT(msg.size(), 400u) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadOption,
    testing::Values(
        Bad{{}, "subcommand"}, Bad{{"frobnicate"}, "frobnicate"}, Bad{{"snapshot", "--bogus"}, "--bogus"},
        Bad{{"snapshot", "--duration"}, "--duration"}, Bad{{"snapshot", "-d", "0s"}, "--duration"},
        Bad{{"snapshot", "-d", "400d"}, "--duration"}, Bad{{"snapshot", "-d", "soon"}, "--duration"},
        Bad{{"top", "-i", "0"}, "--interval"}, Bad{{"snapshot", "--min-age", "-1s"}, "--min-age"},
        Bad{{"snapshot", "--sample-every", "0"}, "--sample-every"},
        Bad{{"snapshot", "--sample-every", "-3"}, "--sample-every"},
        Bad{{"snapshot", "--max-stacks", "0"}, "--max-stacks"},
        Bad{{"snapshot", "--max-stacks", "4294967295"}, "--max-stacks"},
        Bad{{"snapshot", "--max-aggregates", "0"}, "--max-aggregates"},
        Bad{{"snapshot", "--max-aggregates", "4294967295"}, "--max-aggregates"},
        Bad{{"snapshot", "--max-tracked", "0"}, "--max-tracked"},
        Bad{{"snapshot", "--max-tracked", "40M"}, "--max-tracked"}, Bad{{"snapshot", "--top", "-1"}, "--top"},
        Bad{{"snapshot", "--top", "4294967296"}, "--top"}, Bad{{"export", "--top-stacks", "-1"}, "--top-stacks"},
        Bad{{"export", "--top-stacks", "0"}, "--top-stacks"}, Bad{{"snapshot", "-f", "xml"}, "--format"},
        Bad{{"snapshot", "--sort", "size"}, "--sort"}, Bad{{"snapshot", "--method", "guess"}, "--method"},
        Bad{{"snapshot", "-c", "kmalloc-2k", "-c", "kmalloc-2k"}, "--cache"},
        Bad{{"snapshot", "-c", std::string(100000, 'k')}, "--cache"}, Bad{{"snapshot", "-c", "a\nb"}, "--cache"},
        Bad{{"snapshot", "-c", "\x1b[31mred"}, "--cache"}, Bad{{"snapshot", "-c", ""}, "--cache"},
        Bad{{"export", "--listen", "localhost"}, "--listen"}, Bad{{"export", "--listen", "1.2.3.4:99999"}, "--listen"},
        Bad{{"export", "--no-textfile"}, "--no-textfile"}, Bad{{"export", "--textfile-dir", ""}, "--textfile-dir"},
        Bad{{"export", "-i", "1y"}, "--interval"}, Bad{{"export", "--show-addresses"}, "--show-addresses"}),
    [](const testing::TestParamInfo<Bad>& info) { return test_name_of(info.param.args); });

TEST(RunConfig, HostileNamesAreNotEchoedRaw) {
  const std::string msg = usage_message({"snapshot", "-c", "\x1b]0;owned\x07\nx"});
  EXPECT_EQ(msg.find('\x1b'), std::string::npos);
  EXPECT_EQ(msg.find('\x07'), std::string::npos);
  EXPECT_NE(msg.find("\\x1b"), std::string::npos) << msg;
}

TEST(RunConfig, DiffTakesTwoFilesAFormatAndTop) {
  const auto d = parse({"diff", "-f", "json", "--top", "0", "a.json", "b.json"}).config.value();
  EXPECT_EQ(d.command, Command::diff);
  EXPECT_EQ(d.diff.before, "a.json");
  EXPECT_EQ(d.diff.after, "b.json");
  EXPECT_EQ(d.diff.format, Format::json);
  EXPECT_EQ(d.diff.top, 0u);
  EXPECT_EQ(parse({"diff", "a", "b"}).config.value().diff.top, 20u);
  EXPECT_NE(usage_message({"diff", "a.json"}).find("diff needs two reports"), std::string::npos);
  EXPECT_NE(usage_message({"diff", "a", "b", "c"}).find("diff needs two reports"), std::string::npos);
  EXPECT_NE(usage_message({"diff", "-f", "svg", "a", "b"}).find("bad --format 'svg': use table, json"),
            std::string::npos);
  EXPECT_NE(usage_message({"diff", "--top", "100001", "a", "b"}).find("--top 100001 is out of range"),
            std::string::npos);
}

TEST(RunConfig, CaptureOptions) {
  const auto off = parse({"export"}).config.value();
  EXPECT_TRUE(off.exporter.capture_dir.empty());
  EXPECT_EQ(off.exporter.capture_keep, 10u);
  EXPECT_EQ(off.exporter.capture_max_bytes, uint64_t{256} << 20);
  EXPECT_TRUE(off.exporter.capture_on_oom);
  EXPECT_FALSE(off.exporter.capture_on_leaking);
  const auto on = parse({"export", "--capture-dir", "/var/lib/slableak/captures", "--capture-keep", "3",
                         "--capture-max-bytes", "1G", "--no-capture-on-oom", "--capture-when-sunreclaim", "30%",
                         "--capture-when-growth", "512M/10m", "--capture-on-leaking"})
                      .config.value();
  EXPECT_EQ(on.exporter.capture_dir, "/var/lib/slableak/captures");
  EXPECT_EQ(on.exporter.capture_keep, 3u);
  EXPECT_EQ(on.exporter.capture_max_bytes, uint64_t{1} << 30);
  EXPECT_FALSE(on.exporter.capture_on_oom);
  ASSERT_TRUE(on.exporter.capture_sunreclaim);
  EXPECT_DOUBLE_EQ(on.exporter.capture_sunreclaim->share, 0.3);
  ASSERT_TRUE(on.exporter.capture_growth);
  EXPECT_DOUBLE_EQ(on.exporter.capture_growth->window_s, 600);
  EXPECT_TRUE(on.exporter.capture_on_leaking);
  EXPECT_NE(usage_message({"export", "--capture-when-sunreclaim", "30%"}).find("--capture-dir"), std::string::npos);
  EXPECT_NE(usage_message({"export", "--capture-dir", "d", "--capture-keep", "0"}).find("--capture-keep"),
            std::string::npos);
  EXPECT_NE(usage_message({"export", "--capture-dir", "d", "--capture-when-growth", "5M"}).find("BYTES/WINDOW"),
            std::string::npos);
  // A bound or a switch of the recorder without the recorder would be
  // silently nothing: each is a usage error naming the missing option.
  for (const std::vector<std::string>& alone :
       {std::vector<std::string>{"export", "--capture-keep", "3"}, {"export", "--capture-max-bytes", "1G"},
        {"export", "--no-capture-on-oom"}}) {
    const std::string m = usage_message(alone);
    EXPECT_NE(m.find(alone[1]), std::string::npos) << m;
    EXPECT_NE(m.find("needs --capture-dir"), std::string::npos) << m;
  }
  EXPECT_NE(usage_message({"export", "--push-interval", "30s"}).find("--push-interval needs --push-pprof"),
            std::string::npos);
  const auto caps = parse({"captures"}).config.value();
  EXPECT_EQ(caps.command, Command::captures);
  EXPECT_EQ(caps.captures.dir, "/var/lib/slableak/captures");
  EXPECT_EQ(parse({"captures", "/tmp/c"}).config.value().captures.dir, "/tmp/c");
}

TEST(RunConfig, ReadyFdIsTakenByEveryTracingCommand) {
  EXPECT_EQ(parse({"snapshot"}).config->ready_fd, -1);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"snapshot"}, {"top"}, {"export"}, {"check"}, {"triage"}, {"run", "--", "true"}}) {
    std::vector<std::string> a = args;
    a.insert(a.begin() + 1, {"--ready-fd", "7"});
    EXPECT_EQ(parse(a).config->ready_fd, 7) << args.front();
  }
  // 0-2 carry the report and the log, and the descriptor is closed after the line.
  for (const char* bad : {"-1", "0", "1", "2", "three", "1048576"}) {
    const std::string msg = usage_message({"snapshot", "--ready-fd", bad});
    EXPECT_NE(msg.find("--ready-fd"), std::string::npos) << msg;
  }
}
