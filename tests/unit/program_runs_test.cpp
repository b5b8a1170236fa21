// The kernel's per-program recursion misses: summed in the model, shown in
// JSON, metrics and the table health lines.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "program_runs.h"
#include "prometheus_text.h"
#include "report.h"

namespace slableak {
namespace {

std::vector<ProgramRuns> three() {
  return {{"kmalloc_btf", true, 4}, {"kfree_btf", true, 7}, {"kmem_cache_free_raw", true, 2}};
}

TEST(ProgramRuns, SumsAllAndFreePrograms) {
  const MissTotals t = sum_misses(three());
  EXPECT_TRUE(t.kernel_counts);
  EXPECT_EQ(t.all, 13u);
  EXPECT_EQ(t.frees, 9u);  // kfree* and kmem_cache_free*: lost frees
  EXPECT_EQ(miss_source(three()), "kernel");
}

TEST(ProgramRuns, KernelWithoutTheFieldSaysSo) {
  const std::vector<ProgramRuns> old = {{"kmalloc_raw", false, 0}, {"kfree_raw", false, 0}};
  const MissTotals t = sum_misses(old);
  EXPECT_FALSE(t.kernel_counts);
  EXPECT_EQ(t.all, 0u);
  EXPECT_EQ(miss_source(old).rfind("unavailable: ", 0), 0u);
  EXPECT_NE(miss_source(old).find("5.12"), std::string::npos);
}

Snapshot with_programs(std::vector<ProgramRuns> p) {
  Snapshot s;
  s.method = "kfunc";
  s.health.programs = std::move(p);
  const MissTotals t = sum_misses(s.health.programs);
  s.health.counters[TracerCounter::recursion_misses] = t.all;
  s.health.missed_frees = t.frees;
  return s;
}

TEST(ProgramRuns, JsonCarriesTheKernelFigurePerProgram) {
  std::ostringstream os;
  write_json(os, with_programs(three()), 0);
  const auto j = nlohmann::json::parse(os.str()).at("tracer");
  EXPECT_EQ(j.at("recursion_misses"), 13);
  EXPECT_EQ(j.at("recursion_misses_source"), "kernel");
  EXPECT_EQ(j.at("recursion_misses_by_program").at("kfree_btf"), 7);
  EXPECT_EQ(j.at("recursion_misses_by_program").at("kmalloc_btf"), 4);
  EXPECT_EQ(j.at("recursion_misses_by_program").size(), 3u);

  std::ostringstream old;
  write_json(old, with_programs({{"kfree_raw", false, 0}}), 0);
  const auto o = nlohmann::json::parse(old.str()).at("tracer");
  EXPECT_TRUE(o.at("recursion_misses_by_program").at("kfree_raw").is_null());  // unknown, not zero
  EXPECT_EQ(o.at("recursion_misses_source").get<std::string>().rfind("unavailable", 0), 0u);
}

TEST(ProgramRuns, MetricsCarryOneSeriesPerCountedProgram) {
  ExpositionInfo info;
  const std::string m = render_prometheus(with_programs(three()), info);
  EXPECT_NE(m.find("# TYPE slableak_tracer_program_recursion_misses_total counter"), std::string::npos);
  EXPECT_NE(m.find("slableak_tracer_program_recursion_misses_total{program=\"kfree_btf\"} 7\n"), std::string::npos);
  EXPECT_NE(m.find("slableak_tracer_program_recursion_misses_total{program=\"kmem_cache_free_raw\"} 2\n"),
            std::string::npos);
  const std::string none = render_prometheus(with_programs({{"kfree_raw", false, 0}}), info);
  EXPECT_EQ(none.find("slableak_tracer_program_recursion_misses_total{"), std::string::npos);
}

TEST(ProgramRuns, TableNamesTheProgramsThatMissed) {
  std::ostringstream os;
  write_table(os, with_programs(three()), 0);
  EXPECT_NE(os.str().find("recursion misses by program (the kernel's count): kmalloc_btf 4, kfree_btf 7, "
                          "kmem_cache_free_raw 2\n"),
            std::string::npos)
      << os.str();
  std::ostringstream old;
  write_table(old, with_programs({{"kfree_raw", false, 0}}), 0);
  EXPECT_NE(old.str().find("recursion misses unavailable: "), std::string::npos) << old.str();
}

}  // namespace
}  // namespace slableak
