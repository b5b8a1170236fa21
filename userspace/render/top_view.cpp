#include "top_view.h"

#include <algorithm>
#include <cstdio>

#include "tracer_counters.h"
#include "units.h"

namespace slableak {
namespace {

const char* sort_name(SortKey k) {
  switch (k) {
    case SortKey::verdict: return "verdict";
    case SortKey::bytes: return "bytes";
    case SortKey::objects: return "objects";
    case SortKey::age: return "age";
    case SortKey::growth: return "growth";
  }
  return "";
}

// The stacks the screen lists: held ones, in snapshot order, at most @top.
std::vector<const StackReport*> listed(const Snapshot& s, size_t top) {
  std::vector<const StackReport*> v;
  for (const auto& st : s.stacks) {
    if (top && v.size() >= top) break;
    if (st.objects > 0) v.push_back(&st);
  }
  return v;
}

size_t selected_index(const std::vector<const StackReport*>& v, const std::string& id) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i]->stack_id == id) return i;
  return 0;
}

std::string fit(std::string s, size_t cols) {
  if (s.size() > cols) s.resize(cols);
  return s;
}

std::string printf_line(const char* f, auto... args) {
  char b[512];
  std::snprintf(b, sizeof b, f, args...);
  return b;
}

std::string rate(double per_s) { return (per_s >= 0 ? "+" : "-") + format_bytes(per_s >= 0 ? per_s : -per_s); }

}  // namespace

std::string terminal_safe(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = '?';
  }
  return out;
}

TopAction top_key(TopState& st, int key, const Snapshot& shown, size_t top) {
  st.status.clear();
  const auto v = listed(shown, top);
  size_t i = selected_index(v, st.selected_id);
  switch (key) {
    case 'q': case 'Q': return TopAction::quit;
    case kKeyUp: case 'k':
      if (!v.empty() && i > 0) st.selected_id = v[i - 1]->stack_id;
      return TopAction::redraw;
    case kKeyDown: case 'j':
      if (!v.empty() && i + 1 < v.size()) st.selected_id = v[i + 1]->stack_id;
      else if (!v.empty()) st.selected_id = v[i]->stack_id;
      return TopAction::redraw;
    case '\r': case '\n': case ' ': case kKeyRight: case kKeyLeft: {
      if (v.empty()) return TopAction::redraw;
      const std::string& id = v[i]->stack_id;
      st.selected_id = id;
      const bool open = st.expanded.count(id) > 0;
      if (key == kKeyLeft || (open && key != kKeyRight)) st.expanded.erase(id);
      else st.expanded.insert(id);
      return TopAction::redraw;
    }
    case 'v': st.sort = SortKey::verdict; return TopAction::resort;
    case 'b': st.sort = SortKey::bytes; return TopAction::resort;
    case 'o': st.sort = SortKey::objects; return TopAction::resort;
    case 'a': st.sort = SortKey::age; return TopAction::resort;
    case 'g': st.sort = SortKey::growth; return TopAction::resort;
    case 'p': case 'P':
      st.paused = !st.paused;
      st.status = st.paused ? "paused: the screen keeps this collection (p resumes)" : "resumed";
      return TopAction::redraw;
    case 'w': case 'W': return TopAction::write_svg;
  }
  return TopAction::none;
}

std::vector<TopLine> render_top(const Snapshot& s, const TopState& st, size_t top, size_t rows, size_t cols) {
  std::vector<TopLine> out;
  const auto add = [&](std::string text, bool selected = false, bool header = false) {
    if (out.size() < rows) out.push_back({fit(std::move(text), cols), selected, header});
  };
  std::string title = "slableak top  " + format_duration(s.elapsed_s) + " traced, " + s.method + ", sort " +
                      sort_name(st.sort) + ", every " + format_duration(st.interval_s);
  if (s.estimated()) title += ", sampled 1/" + std::to_string(s.sample_every);
  if (st.paused) title += "  [PAUSED]";
  std::string caches;
  for (const auto& c : s.caches) {
    const int64_t delta = c.slab_active_now - c.slab_active_start;
    if (!caches.empty()) caches += " | ";
    caches += terminal_safe(c.name) + ": slab " + (c.in_slabinfo ? (delta > 0 ? "+" : "") + std::to_string(delta) : "n/a") +
              ", held " + (c.upper_bound() ? "<=" : "") + std::to_string(c.attributed_objects);
    if (c.in_slabinfo && delta > 0) caches += printf_line(" (%.0f%%)", 100 * c.explained_ratio());
  }
  // The health bar: how full the live map is, then drops, by reason once
  // there are any (all reasons would not fit 80 columns).
  uint64_t dropped = 0;
  std::string reasons;
  for (const auto& c : kTracerCounters) {
    if (c.group != "drops" || s.health.counters[c.id] == 0) continue;
    dropped += s.health.counters[c.id];
    reasons += (reasons.empty() ? "" : ", ") + std::string(c.text) + " " + std::to_string(s.health.counters[c.id]);
  }
  const std::string health = "live map " + std::to_string(s.health.live_objects) + "/" +
                             std::to_string(s.health.live_capacity) + "  " +
                             (dropped ? "DROPS " + std::to_string(dropped) + ": " + reasons : "drops 0");
  const std::string keys = st.status.empty()
                               ? "q quit  up/down select  enter frames  v/b/o/a/g sort  p pause  w write SVG"
                               : terminal_safe(st.status);

  add(title, false, true);
  if (rows < 6) {
    while (out.size() < rows) add("");
    return out;
  }
  add(caches.empty() ? "no caches followed" : caches);
  add(printf_line("  %-3s %-14s %9s %10s %7s %11s  %s", "#", "CACHE", "OBJECTS", "BYTES", "OLDEST", "GROWTH/s",
                  "INNERMOST FRAME"),
      false, true);
  // Rows for stacks and their frames, then scrolled so the selection shows.
  const auto v = listed(s, top);
  const size_t sel = selected_index(v, st.selected_id);
  std::vector<TopLine> body;
  size_t sel_row = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const StackReport& r = *v[i];
    const bool open = st.expanded.count(r.stack_id) > 0;
    if (i == sel) sel_row = body.size();
    std::string cache = terminal_safe(r.cache);
    if (cache.size() > 14) cache = cache.substr(0, 13) + "~";
    body.push_back({printf_line("%c %-3zu %-14s %9lld %10s %7s %11s  %s", open ? '-' : '+', i + 1, cache.c_str(),
                                static_cast<long long>(r.objects), format_bytes(static_cast<double>(r.bytes)).c_str(),
                                format_duration(r.oldest_age_s).c_str(), rate(r.growth_bytes_per_s).c_str(),
                                // --by: who allocated, before the frame (a stack has a row per task)
                                ((r.task.empty() ? "" : "[" + terminal_safe(r.task) + "] ") +
                                 (r.frames.empty() ? "-" : terminal_safe(r.frames[0])))
                                    .c_str()),
                    i == sel, false});
    if (open)
      for (const auto& f : r.frames) body.push_back({"        " + terminal_safe(f), false, false});
  }
  const size_t room = rows > 5 ? rows - 5 : 0;  // title, caches, header; health, keys
  size_t first = 0;
  if (sel_row >= room && room > 0) first = sel_row - room + 1;
  if (v.empty()) add("  no outstanding allocations attributed yet");
  for (size_t i = first; i < body.size() && i < first + room; ++i) add(body[i].text, body[i].selected);
  while (out.size() + 2 < rows) add("");
  add(health);
  add(keys);
  while (out.size() < rows) add("");
  return out;
}

}  // namespace slableak
