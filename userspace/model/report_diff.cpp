#include "report_diff.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "error.h"
#include "kallsyms.h"

namespace slableak {
namespace {

// What each side holds under one key, summed (a report has one row per key;
// summing keeps a hand-edited file with duplicates from double-matching).
struct Side {
  std::vector<std::string> frames;
  std::vector<std::string> ids;
  std::vector<std::string> verdicts;
  int64_t objects = 0, bytes = 0;
  bool matched = false;
};

using Key = std::tuple<std::string, std::string, std::string>;  // cache, task, id or functions

std::string functions_key(const std::vector<std::string>& frames) {
  std::string k;
  for (const auto& f : frames) k += function_of_frame(f) + "\n";
  return k;
}

void add(Side& s, const RecordedStack& st) {
  if (s.frames.empty()) s.frames = st.frames;
  s.ids.push_back(st.stack_id);
  s.verdicts.push_back(st.verdict);
  s.objects += st.objects;
  s.bytes += st.bytes;
}

std::string one_verdict(const std::vector<std::string>& v) { return v.size() == 1 ? v.front() : ""; }

Change change_of(int64_t before, int64_t after, int64_t bytes_before, int64_t bytes_after) {
  if (before == 0 && after > 0) return Change::appeared;
  if (before > 0 && after == 0) return Change::disappeared;
  if (after != before) return after > before ? Change::grew : Change::shrank;
  if (bytes_after != bytes_before) return bytes_after > bytes_before ? Change::grew : Change::shrank;
  return Change::unchanged;
}

void note_truncated(const RecordedReport& r, const char* side, std::vector<std::string>& notes) {
  if (!r.stacks_total || *r.stacks_total <= r.stacks.size()) return;
  notes.push_back(std::string(side) + " lists " + std::to_string(r.stacks.size()) + " of its " +
                  std::to_string(*r.stacks_total) +
                  " stacks (--top): a stack below its cut shows as appeared or disappeared; write both with --top 0");
}

std::string with_source(const char* side, const RecordedReport& r) {
  return std::string(side) + " (" + r.source + ")";
}

}  // namespace

const char* change_name(Change c) {
  switch (c) {
    case Change::appeared: return "appeared";
    case Change::disappeared: return "disappeared";
    case Change::grew: return "grew";
    case Change::shrank: return "shrank";
    case Change::unchanged: return "unchanged";
  }
  return "unchanged";
}

const char* matched_by_name(MatchedBy m) {
  switch (m) {
    case MatchedBy::none: return "";
    case MatchedBy::stack_id: return "stack_id";
    case MatchedBy::functions: return "functions";
  }
  return "";
}

size_t ReportDiff::count(Change c) const {
  return static_cast<size_t>(std::count_if(rows.begin(), rows.end(), [c](const DiffRow& r) { return r.change == c; }));
}

ReportDiff diff_reports(const RecordedReport& before, const RecordedReport& after) {
  if (before.schema_version != after.schema_version)
    throw usage_error(with_source("BEFORE", before) + " has JSON contract version " +
                      std::to_string(before.schema_version) + ", " + with_source("AFTER", after) + " version " +
                      std::to_string(after.schema_version) + ": compare reports of one contract version");
  if (before.schema_version != kReportSchemaVersion)
    throw usage_error(before.source + " has JSON contract version " + std::to_string(before.schema_version) +
                      "; this slableak reads version " + std::to_string(kReportSchemaVersion) +
                      ": diff with the slableak that wrote it");
  if (before.by != after.by)
    throw usage_error(with_source("BEFORE", before) + " groups stacks by " +
                      (before.by.empty() ? "stack only" : "--by " + before.by) + ", " + with_source("AFTER", after) +
                      " by " + (after.by.empty() ? "stack only" : "--by " + after.by) +
                      ": compare reports made with the same --by");

  ReportDiff d;
  // Caches: compared only where both reports followed them.
  std::set<std::string> followed_before, followed_after;
  for (const auto& c : before.caches) {
    followed_before.insert(c.name);
    CacheDiff cd;
    cd.name = c.name;
    cd.in_before = true;
    cd.objects_before = c.objects;
    cd.bytes_before = c.bytes;
    d.caches.push_back(cd);
  }
  for (const auto& c : after.caches) {
    followed_after.insert(c.name);
    auto it = std::find_if(d.caches.begin(), d.caches.end(), [&](const CacheDiff& x) { return x.name == c.name; });
    if (it == d.caches.end()) {
      d.caches.push_back(CacheDiff{c.name, false, false, 0, 0, 0, 0});
      it = d.caches.end() - 1;
    }
    it->in_after = true;
    it->objects_after = c.objects;
    it->bytes_after = c.bytes;
  }
  const auto compared = [&](const std::string& cache) {
    return followed_before.count(cache) && followed_after.count(cache);
  };
  for (const auto& c : d.caches) {
    if (c.in_before && c.in_after) continue;
    const char* side = c.in_before ? "BEFORE" : "AFTER";
    d.notes.push_back(c.name + " was followed only in " + side + ": its stacks are not compared");
  }

  // Pass 1: the stable id.
  std::map<Key, Side> b, a;
  for (const auto& st : before.stacks)
    if (compared(st.cache)) add(b[{st.cache, st.task, st.stack_id}], st);
  for (const auto& st : after.stacks)
    if (compared(st.cache)) add(a[{st.cache, st.task, st.stack_id}], st);

  const auto emit = [&](const std::string& cache, const std::string& task, const Side* sb, const Side* sa,
                        MatchedBy how) {
    DiffRow r;
    r.cache = cache;
    r.task = task;
    r.matched_by = how;
    if (sb) {
      r.ids_before = sb->ids;
      r.objects_before = sb->objects;
      r.bytes_before = sb->bytes;
      r.verdict_before = one_verdict(sb->verdicts);
    }
    if (sa) {
      r.ids_after = sa->ids;
      r.objects_after = sa->objects;
      r.bytes_after = sa->bytes;
      r.verdict_after = one_verdict(sa->verdicts);
    }
    if (how == MatchedBy::functions) {
      for (const auto& f : sa->frames) r.frames.push_back(function_of_frame(f));
    } else {
      r.frames = sa ? sa->frames : sb->frames;
    }
    r.change = change_of(r.objects_before, r.objects_after, r.bytes_before, r.bytes_after);
    // Held nothing on either side: nothing to say about it.
    if (r.objects_before == 0 && r.objects_after == 0 && r.bytes_before == 0 && r.bytes_after == 0) return;
    d.rows.push_back(std::move(r));
  };

  for (auto& [key, sb] : b) {
    auto it = a.find(key);
    if (it == a.end()) continue;
    sb.matched = it->second.matched = true;
    emit(std::get<0>(key), std::get<1>(key), &sb, &it->second, MatchedBy::stack_id);
  }

  // Pass 2: what is left, by functions. Several stacks of one side that
  // differ only in offsets become one row.
  std::map<Key, Side> fb, fa;
  const auto regroup = [](std::map<Key, Side>& from, std::map<Key, Side>& to) {
    for (auto& [key, s] : from) {
      if (s.matched) continue;
      Side& g = to[{std::get<0>(key), std::get<1>(key), functions_key(s.frames)}];
      if (g.frames.empty()) g.frames = s.frames;
      g.ids.insert(g.ids.end(), s.ids.begin(), s.ids.end());
      g.verdicts.insert(g.verdicts.end(), s.verdicts.begin(), s.verdicts.end());
      g.objects += s.objects;
      g.bytes += s.bytes;
    }
  };
  regroup(b, fb);
  regroup(a, fa);
  size_t by_functions = 0;
  for (auto& [key, sb] : fb) {
    auto it = fa.find(key);
    if (it == fa.end()) {
      emit(std::get<0>(key), std::get<1>(key), &sb, nullptr, MatchedBy::none);
      continue;
    }
    it->second.matched = true;
    const size_t rows = d.rows.size();
    emit(std::get<0>(key), std::get<1>(key), &sb, &it->second, MatchedBy::functions);
    by_functions += d.rows.size() - rows;
  }
  for (auto& [key, sa] : fa)
    if (!sa.matched) emit(std::get<0>(key), std::get<1>(key), nullptr, &sa, MatchedBy::none);

  if (by_functions)
    d.notes.push_back(std::to_string(by_functions) + (by_functions == 1 ? " stack was" : " stacks were") +
                      " matched by function names only (offsets differ: another build of the kernel?)");
  note_truncated(before, "BEFORE", d.notes);
  note_truncated(after, "AFTER", d.notes);
  if (before.sample_every > 1 || after.sample_every > 1)
    d.notes.push_back("sampled (BEFORE 1 in " + std::to_string(before.sample_every) + ", AFTER 1 in " +
                      std::to_string(after.sample_every) + "): counts are estimates, small changes are noise");
  if (before.method != after.method)
    d.notes.push_back("cache method differs (BEFORE " + before.method + ", AFTER " + after.method +
                      "): a derived report cannot tell bucket caches from kmalloc-2k");

  std::stable_sort(d.rows.begin(), d.rows.end(), [](const DiffRow& x, const DiffRow& y) {
    const bool xu = x.change == Change::unchanged, yu = y.change == Change::unchanged;
    if (xu != yu) return yu;
    const int64_t bx = x.bytes_delta() < 0 ? -x.bytes_delta() : x.bytes_delta();
    const int64_t by = y.bytes_delta() < 0 ? -y.bytes_delta() : y.bytes_delta();
    if (bx != by) return bx > by;
    if (x.bytes_after != y.bytes_after) return x.bytes_after > y.bytes_after;
    return std::tie(x.cache, x.task, x.frames) < std::tie(y.cache, y.task, y.frames);
  });
  return d;
}

}  // namespace slableak
