// The script contract (docs/json.md): one object, a "stacks" array whose
// elements carry at least cache, objects, bytes and frames.
#include <nlohmann/json.hpp>

#include "report.h"
#include "report_diff.h"

namespace slableak {

void write_json(std::ostream& os, const Snapshot& s, size_t top) {
  using nlohmann::json;
  json j;
  j["schema_version"] = kReportSchemaVersion;
  j["time"] = s.unix_time;
  j["elapsed_seconds"] = s.elapsed_s;
  j["cache_method"] = s.method;
  j["arch"] = s.arch;
  j["stack_fingerprints"] = s.stack_fingerprints;
  j["sample_every"] = s.sample_every;
  if (!s.by.empty()) j["by"] = s.by;
  j["estimated"] = s.estimated();
  j["caches"] = json::array();
  for (const auto& c : s.caches) {
    json cj = {{"name", c.name},
               {"requested", c.requested},
               {"kind", c.named ? "named" : "kmalloc"},
               {"shares_with", c.shares_with},
               {"object_size", c.object_size},
               {"attributed_objects", c.attributed_objects},
               {"attributed_bytes", c.attributed_bytes},
               {"retired_stack_allocs", c.retired_allocs},
               {"retired_stack_frees", c.retired_frees}};
    if (c.in_slabinfo) {
      cj["slabinfo_active_start"] = c.slab_active_start;
      cj["slabinfo_active_now"] = c.slab_active_now;
      cj["slabinfo_delta"] = c.slab_active_now - c.slab_active_start;
      cj["explained_ratio"] = c.explained_ratio();
    }
    if (!c.family.empty()) cj["family"] = c.family;
    if (!c.merged_as.empty()) cj["merged_as"] = c.merged_as;
    cj["implicit_frees"] = c.implicit_frees;
    cj["counts_are_upper_bounds"] = c.upper_bound();
    cj["upper_bound_reasons"] = c.upper_bound_reasons;
    j["caches"].push_back(std::move(cj));
  }
  j["families"] = json::array();
  for (const auto& f : family_totals(s)) {
    json fj = {{"name", f.name},
               {"members", f.members},
               {"attributed_objects", f.attributed_objects},
               {"attributed_bytes", f.attributed_bytes},
               {"slabinfo_delta", f.slab_delta}};
    j["families"].push_back(std::move(fj));
  }
  j["stacks"] = json::array();
  // How many stacks there were before --top cut the list: `slableak diff`
  // says when a stack may only have fallen below the cut.
  j["stacks_total"] = s.stacks.size();
  size_t n = 0;
  for (const auto& st : s.stacks) {
    if (top && n >= top) break;
    ++n;
    json ages = json::object();
    for (size_t i = 0; i < kAgeBuckets; ++i) ages[age_bucket_label(i)] = st.age_objects[i];
    json sj = {{"cache", st.cache},
                           {"requested", st.requested},
                           {"stack_id", st.stack_id},
                           {"stack_fn_id", st.stack_fn_id},
                           {"objects", st.objects},
                           {"bytes", st.bytes},
                           {"allocs", st.allocs},
                           {"frees", st.frees},
                           {"oldest_age_seconds", st.oldest_age_s},
                           {"objects_by_age", ages},
                           {"growth_objects_per_second", st.growth_objects_per_s},
                           {"growth_bytes_per_second", st.growth_bytes_per_s},
                           {"verdict", verdict_name(st.verdict)},
                           {"verdict_evidence", st.verdict_evidence},
                           {"frames", st.frames.to_vector()}};
    if (!s.by.empty()) sj["task"] = st.task;
    j["stacks"].push_back(std::move(sj));
  }
  const auto& h = s.health;
  json tracer = json::object();
  for (const auto& c : kTracerCounters) tracer[std::string(c.json)] = h.counters[c.id];
  tracer.update({{"live_objects", h.live_objects},
                 {"live_capacity", h.live_capacity},       {"aggregate_entries", h.agg_entries},
                 {"aggregate_capacity", h.agg_capacity},   {"stack_entries", h.stack_entries},
                 {"stack_capacity", h.stack_capacity},     {"kernel_map_bytes", h.kernel_map_bytes}});
  // The kernel's own count of skipped runs, per program (bpf_prog_info).
  tracer["recursion_misses_source"] = miss_source(h.programs);
  json by_program = json::object();
  for (const auto& p : h.programs)
    by_program[p.program] = p.kernel_counts ? json(p.recursion_misses) : json(nullptr);
  tracer["recursion_misses_by_program"] = std::move(by_program);
  j["tracer"] = std::move(tracer);
  j["slabinfo_read_errors"] = s.slabinfo_errors;
  if (!s.slabinfo_error.empty()) j["slabinfo_error"] = s.slabinfo_error;
  // A name that is not UTF-8 is written with U+FFFD rather than failing the report.
  os << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace slableak
