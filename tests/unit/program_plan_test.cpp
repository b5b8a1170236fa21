// The program plan: which BPF programs load and attach on each kernel of the
// matrix (docs/kernels.md), and which method names the cache, decided without
// root or a kernel from recorded feature sets.
#include "program_plan.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "error.h"

using namespace slableak;

namespace {

// The features kernel_features.cpp reads from /sys/kernel/btf/vmlinux,
// recorded for Debian's cloud kernels of the matrix (the BTF of each cached
// vmlinuz, read with bpftool btf dump: the bpf_get_kmem_cache FUNC, the
// btf_trace_kmalloc_node TYPEDEF, and the third argument of
// btf_trace_kmem_cache_alloc, a struct kmem_cache * from 6.1 on and size_t
// on 5.10). x86-64 and arm64 agree on every kernel; both have 4 KiB pages.
struct KernelRow {
  const char* name;  // test name: the kernel series and the arch
  KernelFeatures features;
  CacheMethod method;                   // what auto picks there
  std::vector<std::string_view> loads;  // following kmalloc-2k and dentry, auto
};

KernelFeatures features(bool kfunc, bool node_event, bool event_has_cache, const char* release) {
  KernelFeatures f;
  f.has_kmem_cache_kfunc = kfunc;
  f.has_kmalloc_node_event = node_event;
  f.alloc_event_has_cache = event_has_cache;
  f.page_size = 4096;
  f.release = release;
  f.has_bpf_cmpxchg = std::string_view(release).rfind("5.10.", 0) != 0;  // 5.12+: every row but 5.10
  return f;
}

const std::vector<std::string_view> kSlab510 = {
    "kmalloc_slab",           "kmalloc_node_slab",           "kfree_derived",    "kmem_cache_free_derived",
    "kmem_cache_alloc_named", "kmem_cache_alloc_node_named", "calib_page_alloc", "calib_kmalloc",
    "calib_kmalloc_node"};
const std::vector<std::string_view> kSlab61 = {"kmalloc_slab",           "kfree_derived",    "kmem_cache_free_derived",
                                               "kmem_cache_alloc_named", "calib_page_alloc", "calib_kmalloc"};
const std::vector<std::string_view> kKfunc618 = {"kmalloc_kfunc", "kfree_kfunc", "kmem_cache_free_kfunc",
                                                 "kmem_cache_alloc_named"};

const KernelRow kRows[] = {
    {"Linux5_10_x86_64", features(false, true, false, "5.10.0-32-cloud-amd64"), CacheMethod::slab, kSlab510},
    {"Linux5_10_arm64", features(false, true, false, "5.10.0-32-cloud-arm64"), CacheMethod::slab, kSlab510},
    {"Linux6_1_x86_64", features(false, false, true, "6.1.0-50-cloud-amd64"), CacheMethod::slab, kSlab61},
    {"Linux6_1_arm64", features(false, false, true, "6.1.0-50-cloud-arm64"), CacheMethod::slab, kSlab61},
    {"Linux6_12_x86_64", features(false, false, true, "6.12.117+deb13-cloud-amd64"), CacheMethod::slab, kSlab61},
    {"Linux6_12_arm64", features(false, false, true, "6.12.117+deb13-cloud-arm64"), CacheMethod::slab, kSlab61},
    {"Linux6_18_x86_64", features(true, false, true, "6.18.15+deb13-cloud-amd64"), CacheMethod::kfunc, kKfunc618},
    {"Linux6_18_arm64", features(true, false, true, "6.18.15+deb13-cloud-arm64"), CacheMethod::kfunc, kKfunc618},
};

PlanRequest both(CacheMethod method = CacheMethod::automatic) {
  PlanRequest r;
  r.method = method;
  r.kmalloc_caches = true;
  r.named_caches = true;
  return r;
}

std::vector<std::string_view> names(const ProgramPlan& plan) {
  std::vector<std::string_view> out;
  for (const auto& p : plan.programs) out.push_back(p.name);
  return out;
}

class OnKernel : public testing::TestWithParam<KernelRow> {};

TEST_P(OnKernel, AutoLoadsWhatTheKernelHasAndTheSelectionNeeds) {
  const KernelRow& row = GetParam();
  const ProgramPlan plan = plan_programs(row.features, both());
  EXPECT_EQ(plan.method, row.method);
  EXPECT_EQ(names(plan), row.loads);
  EXPECT_EQ(plan.kfunc_object, row.method == CacheMethod::kfunc);
  EXPECT_EQ(plan.alloc_event_has_cache, row.features.alloc_event_has_cache);
  // Calibration programs are attached only by the calibration, and only
  // where a program walks to the slab.
  for (const auto& p : plan.programs)
    EXPECT_EQ(p.attach == Attach::calibration, p.name.rfind("calib_", 0) == 0) << p.name;
  EXPECT_EQ(plan.calibrates(), row.method == CacheMethod::slab);
}

TEST_P(OnKernel, DerivedNeverCalibratesAndNamesKmallocsByTheirSize) {
  const KernelRow& row = GetParam();
  PlanRequest kmalloc_only;
  kmalloc_only.method = CacheMethod::derived;
  kmalloc_only.kmalloc_caches = true;
  const ProgramPlan plan = plan_programs(row.features, kmalloc_only);
  EXPECT_EQ(plan.method, CacheMethod::derived);
  EXPECT_FALSE(plan.calibrates());
  EXPECT_FALSE(plan.kfunc_object);
  EXPECT_TRUE(plan.find("kmalloc_derived"));
  EXPECT_EQ(plan.find("kmalloc_node_derived") != nullptr, row.features.has_kmalloc_node_event);
  EXPECT_FALSE(plan.find("kmem_cache_alloc_named"));
}

TEST_P(OnKernel, TheLiveTableIsTheArrayWhereTheVerifierTakesCmpxchg) {
  const KernelRow& row = GetParam();
  for (CacheMethod m : {CacheMethod::automatic, CacheMethod::slab, CacheMethod::derived}) {
    PlanRequest kmalloc_only;
    kmalloc_only.method = m;
    kmalloc_only.kmalloc_caches = true;
    const ProgramPlan plan = plan_programs(row.features, kmalloc_only);
    EXPECT_EQ(plan.live_array, row.features.has_bpf_cmpxchg) << row.name;
  }
  // The kfunc object is built with cmpxchg: it implies the array, whatever
  // the probe said (the kfunc came in 6.13, cmpxchg in 5.12).
  KernelFeatures f = row.features;
  f.has_bpf_cmpxchg = false;
  if (f.has_kmem_cache_kfunc) EXPECT_TRUE(plan_programs(f, both(CacheMethod::kfunc)).live_array);
}

TEST_P(OnKernel, TheSlabMethodRunsEverywhere) {
  const ProgramPlan plan = plan_programs(GetParam().features, both(CacheMethod::slab));
  EXPECT_EQ(plan.method, CacheMethod::slab);
  EXPECT_TRUE(plan.find("kmalloc_slab"));
  EXPECT_TRUE(plan.calibrates());
}

TEST_P(OnKernel, KfuncOnlyWhereTheKernelHasIt) {
  const KernelRow& row = GetParam();
  if (row.features.has_kmem_cache_kfunc) {
    EXPECT_EQ(plan_programs(row.features, both(CacheMethod::kfunc)).method, CacheMethod::kfunc);
    return;
  }
  try {
    plan_programs(row.features, both(CacheMethod::kfunc));
    ADD_FAILURE() << "planned kfunc programs on " << row.name;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::environment);
    EXPECT_NE(std::string(e.what()).find("use --method slab"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(row.features.release), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Matrix, OnKernel, testing::ValuesIn(kRows),
                         [](const testing::TestParamInfo<KernelRow>& info) { return std::string(info.param.name); });

TEST(ProgramPlan, OnlyTheEventsTheSelectionNeeds) {
  const KernelFeatures k618 = kRows[6].features;
  PlanRequest named;
  named.named_caches = true;
  EXPECT_EQ(names(plan_programs(k618, named)),
            (std::vector<std::string_view>{"kfree_kfunc", "kmem_cache_free_kfunc", "kmem_cache_alloc_named"}));
  PlanRequest kmalloc;
  kmalloc.kmalloc_caches = true;
  EXPECT_EQ(names(plan_programs(k618, kmalloc)),
            (std::vector<std::string_view>{"kmalloc_kfunc", "kfree_kfunc", "kmem_cache_free_kfunc"}));
}

TEST(ProgramPlan, NamedCachesBefore6_0WalkToTheSlabEvenWithoutKmallocs) {
  PlanRequest named;
  named.named_caches = true;
  const ProgramPlan plan = plan_programs(kRows[0].features, named);
  EXPECT_EQ(plan.method, CacheMethod::slab);
  EXPECT_FALSE(plan.alloc_event_has_cache);
  EXPECT_TRUE(plan.calibrates());
  EXPECT_FALSE(plan.find("kmalloc_slab"));
  EXPECT_TRUE(plan.find("kmem_cache_alloc_node_named"));
  // From 6.0 the event names the cache: no walk, no calibration.
  EXPECT_FALSE(plan_programs(kRows[2].features, named).calibrates());
  // A guess cannot name them before 6.0.
  named.method = CacheMethod::derived;
  try {
    plan_programs(kRows[0].features, named);
    ADD_FAILURE() << "planned named caches under derived on 5.10";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_NE(std::string(e.what()).find("--method slab"), std::string::npos) << e.what();
  }
}

TEST(ProgramPlan, LargePagesKeepTheGuess) {
  KernelFeatures k = kRows[5].features;  // 6.12 arm64, built with 64 KiB pages
  k.page_size = 65536;
  EXPECT_EQ(resolve_method(k, CacheMethod::automatic), CacheMethod::derived);
  k.has_kmem_cache_kfunc = true;
  EXPECT_EQ(resolve_method(k, CacheMethod::automatic), CacheMethod::kfunc);
}

TEST(ProgramPlan, OnlyCommandFollowsForksAndExits) {
  PlanRequest r = both();
  r.filter_tasks = true;
  const ProgramPlan plan = plan_programs(kRows[3].features, r);
  ASSERT_TRUE(plan.find("task_filter_fork"));
  EXPECT_EQ(plan.find("task_filter_exit")->attach, Attach::with_tracing);
  EXPECT_FALSE(plan_programs(kRows[3].features, both()).find("task_filter_fork"));
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The plan names programs by their names in bpf/: every name it can plan
// is a program there, and every program there is planned somewhere.
TEST(ProgramPlan, NamesTheProgramsOfTheBpfObject) {
  std::set<std::string> in_bpf;
  const std::regex prog(R"((?:BPF_PROG\(|SLK_KMALLOC_PROG\("[^"]*", )(\w+),)");
  for (const char* file : {"slableak.bpf.c", "task_filter.h"}) {
    std::istringstream text(read_text(std::string(BPF_SOURCE_DIR) + "/" + file));
    std::string line;
    size_t lines = 0;
    for (; std::getline(text, line); ++lines) {
      if (!line.empty() && line.back() == '\\') continue;  // a macro's body, not a program
      for (std::sregex_iterator it(line.begin(), line.end(), prog), end; it != end; ++it) in_bpf.insert((*it)[1]);
    }
    ASSERT_GT(lines, 0u) << file;
  }
  std::set<std::string> planned;
  for (const KernelRow& row : kRows)
    for (CacheMethod m : {CacheMethod::automatic, CacheMethod::slab, CacheMethod::derived}) {
      PlanRequest r = both(m);
      r.named_caches = names_alloc_event_cache(row.features, resolve_method(row.features, m));
      r.filter_tasks = true;
      for (auto n : names(plan_programs(row.features, r))) planned.insert(std::string(n));
    }
  EXPECT_EQ(planned, in_bpf);
}

}  // namespace
