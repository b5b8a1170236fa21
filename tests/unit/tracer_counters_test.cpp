// Every counter of SLK_TRACER_COUNTERS reaches all three outputs under the
// names its descriptor line gives: adding a line is all a new counter needs.
#include "tracer_counters.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "prometheus_text.h"
#include "report.h"

using namespace slableak;

namespace {

Snapshot with_distinct_counters() {
  Snapshot s;
  s.method = "kfunc";
  for (size_t i = 0; i < kTracerCounterCount; ++i) s.health.counters[kTracerCounters[i].id] = 1000 + i;
  return s;
}

std::string line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) return line;
  return {};
}

}  // namespace

TEST(TracerCounters, NamesAreUnique) {
  std::set<std::string_view> fields, json;
  std::set<std::pair<std::string_view, std::string_view>> series;
  for (const auto& c : kTracerCounters) {
    EXPECT_TRUE(fields.insert(c.field).second) << c.field;
    EXPECT_TRUE(json.insert(c.json).second) << c.json;
    EXPECT_TRUE(series.insert({c.metric, c.label_value}).second) << c.metric << " " << c.label_value;
    EXPECT_TRUE(c.group == "tracer" || c.group == "drops") << c.field;
    EXPECT_TRUE(c.metric.size() > 6 && c.metric.substr(c.metric.size() - 6) == "_total") << c.metric;
  }
}

TEST(TracerCounters, KernelStatsMapToTheirFields) {
  slk_stats st{};
  st.allocs_tracked = 7;
  st.stack_errors = 9;
  TracerCounters c;
  c[TracerCounter::recursion_misses] = 5;
  c.set_from_kernel(st);
  EXPECT_EQ(c[TracerCounter::allocs_tracked], 7u);
  EXPECT_EQ(c[TracerCounter::stack_errors], 9u);
  EXPECT_EQ(c[TracerCounter::recursion_misses], 5u);  // not a kernel field: left alone
  EXPECT_EQ(c[TracerCounter::allocs_selected], 0u);
}

TEST(TracerCounters, EveryCounterInJson) {
  std::ostringstream os;
  write_json(os, with_distinct_counters(), 0);
  const auto j = nlohmann::json::parse(os.str());
  for (size_t i = 0; i < kTracerCounterCount; ++i)
    EXPECT_EQ(j.at("tracer").at(std::string(kTracerCounters[i].json)), 1000 + i) << kTracerCounters[i].field;
}

TEST(TracerCounters, EveryCounterInTheTable) {
  std::ostringstream os;
  write_table(os, with_distinct_counters(), 0);
  for (size_t i = 0; i < kTracerCounterCount; ++i) {
    const auto& c = kTracerCounters[i];
    const std::string line = line_starting(os.str(), std::string(c.group) + ":");
    EXPECT_NE(line.find(std::string(c.text) + " " + std::to_string(1000 + i)), std::string::npos)
        << c.field << " not on the line: " << line;
  }
}

TEST(TracerCounters, EveryCounterInPrometheusOnceWithOneHelpPerFamily) {
  const std::string text = render_prometheus(with_distinct_counters(), ExpositionInfo{});
  for (size_t i = 0; i < kTracerCounterCount; ++i) {
    const auto& c = kTracerCounters[i];
    std::string series(c.metric);
    if (!c.label_key.empty()) series += "{" + std::string(c.label_key) + "=\"" + std::string(c.label_value) + "\"}";
    EXPECT_NE(text.find("\n" + series + " " + std::to_string(1000 + i) + "\n"), std::string::npos) << series;
    size_t helps = 0;
    for (size_t p = text.find("# HELP " + std::string(c.metric) + " "); p != std::string::npos;
         p = text.find("# HELP " + std::string(c.metric) + " ", p + 1))
      ++helps;
    EXPECT_EQ(helps, 1u) << c.metric;
  }
}
