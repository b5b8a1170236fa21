// The kernel's own count of skipped runs, per slableak program.
//
// A tracing program is not run when it is already running on that CPU (the
// kernel's recursion guard; per program for tp_btf since 6.1 and for raw_tp
// since 6.7). What really nests on one CPU is an interrupt that lands while
// slableak's kmem_cache_free program runs for a process-context free and,
// on its way out, runs RCU callbacks that free objects of their own (tmpfs
// inodes are freed that way): those nested frees are skipped and counted in
// the program's bpf_prog_info.recursion_misses. This test makes many of
// both, on every CPU, until the kernel has counted some, and checks that the
// figure reaches the report per program, sums to the health counter, and
// marks the counts as upper bounds.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <cstdlib>
#include <sstream>
#include <thread>

#include "live_session.h"
#include "program_runs.h"
#include "prometheus_text.h"
#include "report.h"
#include "session.h"
#include "support.h"

namespace slableak::test {
namespace {

// One round: each thread creates, writes and unlinks kFiles files in its own
// tmpfs directory (inodes and dentries freed from RCU callbacks in softirq),
// with a path lookup per step (names_cache: a process-context
// kmem_cache_alloc/free each).
constexpr int kFiles = 20000;
constexpr int kMaxRounds = 20;

void churn_files(const std::string& dir) {
  char buf[64] = {};
  for (int i = 0; i < kFiles; ++i) {
    const std::string p = dir + "/f" + std::to_string(i % 64);
    const int fd = open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd >= 0) {
      (void)!write(fd, buf, sizeof buf);
      close(fd);
    }
    struct stat st;
    (void)stat(p.c_str(), &st);
    unlink(p.c_str());
  }
}

// The kernel's figure read again, by program id, outside slableak: the sum
// over every loaded program named like one of @names (bpf_prog_info keeps the
// first 15 characters of a name).
uint64_t kernel_misses_named(const std::vector<ProgramRuns>& names) {
  uint64_t sum = 0;
  uint32_t id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    const int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
      for (const auto& p : names)
        if (p.program.substr(0, sizeof info.name - 1) == info.name) sum += info.recursion_misses;
    close(fd);
  }
  return sum;
}

TEST(RecursionMisses, KernelFigurePerProgramReachesEveryOutput) {
  REQUIRE_BPF();
  const char* shm = "/dev/shm";
  struct stat st;
  if (stat(shm, &st) != 0) GTEST_SKIP() << "no /dev/shm (tmpfs) to churn inodes in";
  TraceOptions so;
  so.caches = {"kmalloc-2k"};
  auto session = open_live_session(so);

  const unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  std::vector<std::string> dirs;
  for (unsigned t = 0; t < threads; ++t) {
    std::string tmpl = std::string(shm) + "/slableak-misses.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dirs.push_back(tmpl);
  }
  Snapshot s;
  int rounds = 0;
  do {
    std::vector<std::thread> pool;
    for (const auto& d : dirs) pool.emplace_back(churn_files, d);
    for (auto& t : pool) t.join();
    s = session->collect();
  } while (++rounds < kMaxRounds && s.health.missed_frees == 0);
  for (const auto& d : dirs) rmdir(d.c_str());

  const MissTotals t = sum_misses(s.health.programs);
  ASSERT_TRUE(t.kernel_counts) << "this kernel's bpf_prog_info has no recursion_misses (5.12+)";
  ASSERT_GT(s.health.missed_frees, 0u) << "no free event was skipped in " << rounds << " rounds";
  std::cout << "free events skipped by the kernel after " << rounds << " rounds: " << s.health.missed_frees
            << " (all programs: " << t.all << ")\n";
  // The health counter is the kernel's per-program figures summed.
  EXPECT_EQ(s.health.counters[TracerCounter::recursion_misses], t.all);
  EXPECT_EQ(s.health.missed_frees, t.frees);
  // Read again by program id from outside: the kernel's books never go back.
  EXPECT_GE(kernel_misses_named(s.health.programs), t.all);
  // Lost frees make every cache's counts upper bounds, citing the figure.
  ASSERT_FALSE(s.caches.empty());
  EXPECT_TRUE(s.caches[0].upper_bound());

  std::ostringstream js;
  write_json(js, s, 0);
  const auto j = nlohmann::json::parse(js.str()).at("tracer");
  EXPECT_EQ(j.at("recursion_misses_source"), "kernel");
  uint64_t by_program = 0;
  for (const auto& [name, v] : j.at("recursion_misses_by_program").items())
    if (!v.is_null()) by_program += v.get<uint64_t>();
  EXPECT_EQ(by_program, t.all);
  EXPECT_EQ(j.at("recursion_misses").get<uint64_t>(), t.all);

  const std::string m = render_prometheus(s, ExpositionInfo{});
  for (const auto& p : s.health.programs)
    if (p.recursion_misses > 0)
      EXPECT_NE(m.find("slableak_tracer_program_recursion_misses_total{program=\"" + p.program + "\"} " +
                       std::to_string(p.recursion_misses) + "\n"),
                std::string::npos)
          << p.program;
}

}  // namespace
}  // namespace slableak::test
