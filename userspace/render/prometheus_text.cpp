#include "prometheus_text.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace slableak {

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string number(double v) {
  char buf[64];
  if (v == static_cast<double>(static_cast<int64_t>(v)) && v < 9e15 && v > -9e15)
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else
    std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Families are written whole (HELP, TYPE, then every sample), once each.
class Writer {
 public:
  void family(const std::string& name, const char* type, const std::string& help) {
    os_ << "# HELP " << name << ' ' << escape_help(help) << "\n# TYPE " << name << ' ' << type << "\n";
    name_ = name;
  }
  void sample(const Labels& labels, double v) {
    os_ << name_;
    if (!labels.empty()) {
      os_ << '{';
      for (size_t i = 0; i < labels.size(); ++i)
        os_ << (i ? "," : "") << labels[i].first << "=\"" << escape_label_value(labels[i].second) << '"';
      os_ << '}';
    }
    os_ << ' ' << number(v) << '\n';
  }
  std::string str() const { return os_.str(); }

 private:
  std::ostringstream os_;
  std::string name_;
};

struct Row {
  std::string stack_id;
  std::string task;  // --by: who allocated ("other" in the other row); "" without --by
  double objects = 0, bytes = 0, oldest = 0, growth = 0;
  const StackReport* stack = nullptr;  // nullptr for "other"
};

// Per cache: the top stacks, those judged leaking first (an alert on a
// leaking stack must not lose it to "other" behind bigger pools), then by
// outstanding bytes; then one "other" row.
std::map<std::string, std::vector<Row>> bounded_rows(const Snapshot& s, size_t top) {
  std::map<std::string, std::vector<const StackReport*>> by_cache;
  for (const auto& st : s.stacks)
    if (st.objects > 0) by_cache[st.cache].push_back(&st);
  std::map<std::string, std::vector<Row>> out;
  for (auto& [cache, v] : by_cache) {
    std::stable_sort(v.begin(), v.end(), [](auto* a, auto* b) {
      const bool la = a->verdict == Verdict::leaking, lb = b->verdict == Verdict::leaking;
      if (la != lb) return la;
      if (a->bytes != b->bytes) return a->bytes > b->bytes;
      if (a->stack_id != b->stack_id) return a->stack_id < b->stack_id;
      return a->task < b->task;
    });
    auto& rows = out[cache];
    Row other{"other", s.by.empty() ? "" : "other"};
    bool have_other = false;
    for (size_t i = 0; i < v.size(); ++i) {
      const auto* st = v[i];
      if (i < top) {
        rows.push_back(Row{st->stack_id, st->task, double(st->objects), double(st->bytes), st->oldest_age_s,
                           st->growth_bytes_per_s, st});
      } else {
        have_other = true;
        other.objects += double(st->objects);
        other.bytes += double(st->bytes);
        other.oldest = std::max(other.oldest, st->oldest_age_s);
        other.growth += st->growth_bytes_per_s;
      }
    }
    if (have_other) rows.push_back(other);
  }
  return out;
}

}  // namespace

std::string render_prometheus(const Snapshot& s, const ExpositionInfo& info) {
  Writer w;
  const auto rows = bounded_rows(s, info.top_stacks);
  // --by (only when asked): the task is a label of the per-stack series,
  // named after what it is (comm, pid, cgroup); --by-limit bounds it.
  const auto stack_labels = [&](const std::string& cache, const Row& r) {
    Labels l{{"cache", cache}, {"stack_id", r.stack_id}};
    if (!s.by.empty()) l.push_back({s.by, r.task});
    return l;
  };
  auto per_stack = [&](const std::string& name, const char* help, auto value) {
    w.family(name, "gauge", help);
    for (const auto& [cache, rs] : rows)
      for (const auto& r : rs) w.sample(stack_labels(cache, r), value(r));
  };
  const std::string est = s.estimated() ? " (estimate: sampled 1 in slableak_sample_every)" : "";
  per_stack("slableak_stack_outstanding_objects", ("Objects allocated since start and not freed, per kernel stack" + est).c_str(),
            [](const Row& r) { return r.objects; });
  per_stack("slableak_stack_outstanding_bytes", ("Bytes allocated since start and not freed, per kernel stack" + est).c_str(),
            [](const Row& r) { return r.bytes; });
  per_stack("slableak_stack_oldest_object_age_seconds", "Age of the oldest outstanding object of the stack",
            [](const Row& r) { return r.oldest; });
  per_stack("slableak_stack_growth_bytes_per_second", "Growth of outstanding bytes (least squares over the window)",
            [](const Row& r) { return r.growth; });

  // A state set: every verdict of every stack with its own series, 1 for
  // the one in force, so an alert can match verdict="leaking" == 1 and the
  // series do not come and go as a verdict changes.
  w.family("slableak_stack_verdict", "gauge",
           "Verdict on the stack (docs/verdicts.md): 1 for the verdict in force, 0 for the others");
  for (const auto& [cache, rs] : rows)
    for (const auto& r : rs) {
      if (!r.stack) continue;
      for (Verdict v : kVerdicts) {
        Labels l = stack_labels(cache, r);
        l.push_back({"verdict", verdict_name(v)});
        w.sample(l, r.stack->verdict == v ? 1 : 0);
      }
    }

  w.family("slableak_stack_info", "gauge", "Readable kernel stack (innermost first, ';'-separated) for a stack_id, and its stack_fn_id (the allocation site: innermost two function names)");
  for (const auto& [cache, rs] : rows) {
    std::set<std::string> described;  // with --by a stack has a row per task, and one info
    for (const auto& r : rs) {
      if (!r.stack || !described.insert(r.stack_id).second) continue;
      std::string frames;
      for (const auto& f : r.stack->frames) frames += (frames.empty() ? "" : ";") + f;
      const std::string top = r.stack->functions.empty() ? "" : r.stack->functions.front();
      w.sample({{"cache", cache},
                {"stack_id", r.stack_id},
                {"stack_fn_id", r.stack->stack_fn_id},
                {"top_frame", top},
                {"frames", frames}},
               1);
    }
  }

  // Per cache.
  std::map<std::string, std::pair<uint64_t, uint64_t>> counts;  // allocs, frees
  std::map<std::string, std::array<int64_t, kAgeBuckets>> ages;
  for (const auto& c : s.caches) {
    // Retired stacks' totals stay in the per-cache counters: monotonic.
    counts[c.name].first += c.retired_allocs;
    counts[c.name].second += c.retired_frees;
    ages[c.name].fill(0);
  }
  for (const auto& st : s.stacks) {
    counts[st.cache].first += st.allocs;
    counts[st.cache].second += st.frees;
    auto& a = ages[st.cache];
    for (size_t i = 0; i < kAgeBuckets; ++i) a[i] += st.age_objects[i];
  }
  // Which --cache argument selected each kernel cache: a join target, so
  // that the per-cache series keep their one "cache" label (the kernel's
  // name) and a family or merged name is one group_left away.
  w.family("slableak_cache_info", "gauge",
           "Followed cache (kernel name) and the --cache argument, family and merged names that selected it; value 1");
  for (const auto& c : s.caches)
    w.sample({{"cache", c.name}, {"requested", c.requested}, {"family", c.family}, {"merged_as", c.merged_as},
              {"kind", c.named ? "named" : "kmalloc"}},
             1);
  w.family("slableak_cache_outstanding_objects", "gauge", "Outstanding objects attributed, per cache" + est);
  for (const auto& c : s.caches) w.sample({{"cache", c.name}}, double(c.attributed_objects));
  w.family("slableak_cache_outstanding_bytes", "gauge", "Outstanding bytes attributed, per cache" + est);
  for (const auto& c : s.caches) w.sample({{"cache", c.name}}, double(c.attributed_bytes));
  w.family("slableak_cache_outstanding_objects_by_age", "gauge",
           "Outstanding objects per age class; age is the upper bound of the class (+Inf for the oldest)");
  for (const auto& [cache, a] : ages)
    for (size_t i = 0; i < kAgeBuckets; ++i) w.sample({{"cache", cache}, {"age", age_bucket_label(i)}}, double(a[i]));
  // Every stack counts here, also those summed into "other".
  std::map<std::string, std::array<int64_t, std::size(kVerdicts)>> by_verdict;
  for (const auto& c : s.caches) by_verdict[c.name].fill(0);
  for (const auto& st : s.stacks) {
    auto& b = by_verdict[st.cache];
    if (st.objects > 0) b[static_cast<size_t>(st.verdict)] += st.bytes;
  }
  w.family("slableak_cache_outstanding_bytes_by_verdict", "gauge",
           "Outstanding bytes attributed, per cache and verdict of the stacks holding them" + est);
  for (const auto& [cache, b] : by_verdict)
    for (Verdict v : kVerdicts) w.sample({{"cache", cache}, {"verdict", verdict_name(v)}}, double(b[static_cast<size_t>(v)]));
  w.family("slableak_allocations_total", "counter", "Allocations in the cache seen by slableak since start" + est);
  for (const auto& [cache, c] : counts) w.sample({{"cache", cache}}, double(c.first));
  w.family("slableak_frees_total", "counter", "Frees of objects slableak tracked, since start" + est);
  for (const auto& [cache, c] : counts) w.sample({{"cache", cache}}, double(c.second));
  w.family("slableak_cache_object_size_bytes", "gauge", "Object size of the cache (/proc/slabinfo)");
  for (const auto& c : s.caches) w.sample({{"cache", c.name}}, c.object_size);
  w.family("slableak_cache_slabinfo_active_objects", "gauge", "active_objs of the cache in /proc/slabinfo");
  for (const auto& c : s.caches)
    if (c.in_slabinfo) w.sample({{"cache", c.name}}, double(c.slab_active_now));
  w.family("slableak_cache_slabinfo_growth_objects", "gauge", "Change of active_objs in /proc/slabinfo since slableak started");
  for (const auto& c : s.caches)
    if (c.in_slabinfo) w.sample({{"cache", c.name}}, double(c.slab_active_now - c.slab_active_start));
  w.family("slableak_cache_growth_explained_ratio", "gauge",
           "Attributed outstanding objects divided by the slabinfo growth since start (0 when it did not grow)");
  for (const auto& c : s.caches)
    if (c.in_slabinfo) w.sample({{"cache", c.name}}, c.explained_ratio());
  w.family("slableak_cache_counts_upper_bound", "gauge",
           "1 when the cache's outstanding counts may be too high: frees without a per-object event "
           "(batched kfree_rcu, bulk frees) or lost free events were seen; the JSON report says why");
  for (const auto& c : s.caches) w.sample({{"cache", c.name}}, c.upper_bound() ? 1 : 0);
  w.family("slableak_cache_implicit_frees_total", "counter",
           "Objects of the cache freed without a per-object event, retired when their address was reused" + est);
  for (const auto& c : s.caches) w.sample({{"cache", c.name}}, double(c.implicit_frees));

  // Tracer health: every event dropped is counted by reason.
  const auto& h = s.health;
  // Each family whole, in the order of its first counter in SLK_TRACER_COUNTERS.
  for (size_t i = 0; i < kTracerCounterCount; ++i) {
    const auto& first = kTracerCounters[i];
    bool seen = false;
    for (size_t j = 0; j < i; ++j) seen = seen || kTracerCounters[j].metric == first.metric;
    if (seen) continue;
    const std::string_view family_help = counter_family_help(first.metric);
    w.family(std::string(first.metric), "counter", std::string(family_help.empty() ? first.help : family_help));
    for (size_t j = i; j < kTracerCounterCount; ++j) {
      const auto& c = kTracerCounters[j];
      if (c.metric != first.metric) continue;
      Labels labels;
      if (!c.label_key.empty()) labels.push_back({std::string(c.label_key), std::string(c.label_value)});
      w.sample(labels, double(h.counters[c.id]));
    }
  }
  w.family("slableak_tracer_program_recursion_misses_total", "counter",
           "Runs the kernel skipped per slableak program because a BPF program was already running on that CPU "
           "(bpf_prog_info recursion_misses, Linux 5.12+; absent where the kernel does not count them)");
  for (const auto& p : h.programs)
    if (p.kernel_counts) w.sample({{"program", p.program}}, double(p.recursion_misses));
  w.family("slableak_tracer_map_entries", "gauge", "Entries in use per BPF map");
  w.sample({{"map", "live"}}, double(h.live_objects));
  w.sample({{"map", "aggregates"}}, double(h.agg_entries));
  w.sample({{"map", "stacks"}}, double(h.stack_entries));
  w.family("slableak_tracer_map_capacity", "gauge", "Maximum entries per BPF map");
  w.sample({{"map", "live"}}, double(h.live_capacity));
  w.sample({{"map", "aggregates"}}, double(h.agg_capacity));
  w.sample({{"map", "stacks"}}, double(h.stack_capacity));
  w.family("slableak_tracer_kernel_memory_bytes", "gauge", "Kernel memory charged for slableak's BPF maps");
  w.sample({}, double(h.kernel_map_bytes));
  w.family("slableak_sample_every", "gauge", "Sampling period in force: 1 in N allocations tracked (1 = exact)");
  w.sample({}, s.sample_every);
  w.family("slableak_textfile_write_errors_total", "counter", "Failed writes of the textfile");
  w.sample({}, double(info.write_errors));
  if (info.push) {
    w.family("slableak_pprof_pushes_total", "counter", "Profiles delivered to --push-pprof (2xx answer)");
    w.sample({}, double(info.pushes));
    w.family("slableak_pprof_push_failures_total", "counter",
             "Profiles not delivered to --push-pprof: given up after the retries, or dropped from a full queue");
    w.sample({}, double(info.push_failures));
  }
  w.family("slableak_slabinfo_read_errors_total", "counter",
           "Collections whose read of /proc/slabinfo failed, was empty or lost a followed cache "
           "(the slabinfo series are then missing)");
  w.sample({}, double(s.slabinfo_errors));
  if (info.captures) {
    w.family("slableak_captures_total", "counter", "Captures written whole by the flight recorder, per trigger");
    for (CaptureTrigger t : kCaptureTriggers)
      w.sample({{"trigger", capture_trigger_name(t)}}, double(info.captures_total[static_cast<size_t>(t)]));
    w.family("slableak_capture_errors_total", "counter",
             "Captures not written whole (full disk, read-only or deleted capture directory)");
    w.sample({}, double(info.capture_errors));
    w.family("slableak_last_capture_timestamp_seconds", "gauge", "Unix time of the last capture written (0: none yet)");
    w.sample({}, info.last_capture_unix);
  }
  w.family("slableak_build_info", "gauge", "Build and run-time facts; value 1");
  w.sample({{"version", info.version},
            {"cache_method", s.method},
            {"kernel", info.kernel},
            {"arch", s.arch},
            {"stack_fingerprints", s.stack_fingerprints == "on" ? "on" : "off"}},
           1);
  w.family("slableak_last_update_timestamp_seconds", "gauge", "Unix time of the last successful collection");
  w.sample({}, info.last_update_unix);
  return w.str();
}

}  // namespace slableak
