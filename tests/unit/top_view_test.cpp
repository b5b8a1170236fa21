// The interactive top screen, decided without a terminal: keys change the
// state, render_top gives exactly the lines an 80x24 terminal shows.
#include "top_view.h"

#include <gtest/gtest.h>

#include "tracer_counters.h"

using namespace slableak;

namespace {

StackReport stack(const std::string& id, std::vector<std::string> frames, int64_t objects) {
  StackReport s;
  s.cache = "kmalloc-2k";
  s.stack_id = id;
  s.frames = frames;
  s.functions = frames;
  s.objects = objects;
  s.bytes = objects * 2048;
  s.oldest_age_s = 12;
  return s;
}

Snapshot snapshot(size_t n = 3) {
  Snapshot s;
  s.elapsed_s = 42;
  s.method = "kfunc";
  CacheHeader c;
  c.name = "kmalloc-2k";
  c.in_slabinfo = true;
  c.slab_active_start = 0;
  c.slab_active_now = 2000;
  c.attributed_objects = 2000;
  s.caches.push_back(c);
  for (size_t i = 0; i < n; ++i)
    s.stacks.push_back(stack("id" + std::to_string(i), {"inner" + std::to_string(i) + "+0x1", "middle+0x2", "outer+0x3"},
                             static_cast<int64_t>(1000 - i)));
  s.stacks.push_back(stack("freed", {"gone+0x1"}, 0));
  s.health.live_objects = 5;
  s.health.live_capacity = 1000;
  return s;
}

std::vector<std::string> texts(const std::vector<TopLine>& lines) {
  std::vector<std::string> v;
  for (const auto& l : lines) v.push_back(l.text);
  return v;
}

bool shows(const std::vector<TopLine>& lines, const std::string& needle) {
  for (const auto& l : lines)
    if (l.text.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(TopView, FitsEightyByTwentyFour) {
  TopState st;
  const auto lines = render_top(snapshot(), st, 20, 24, 80);
  ASSERT_EQ(lines.size(), 24u);
  for (const auto& l : lines) EXPECT_LE(l.text.size(), 80u) << l.text;
  EXPECT_NE(lines[0].text.find("sort bytes"), std::string::npos);
  EXPECT_NE(lines[1].text.find("kmalloc-2k: slab +2000, held 2000 (100%)"), std::string::npos) << lines[1].text;
  EXPECT_TRUE(lines[3].selected);  // the first stack, selected by default
  EXPECT_NE(lines[3].text.find("inner0+0x1"), std::string::npos);
  EXPECT_FALSE(shows(lines, "gone"));  // freed stacks are not listed
  EXPECT_EQ(lines[22].text, "live map 5/1000  drops 0");
  EXPECT_NE(lines[23].text.find("q quit"), std::string::npos);
  // Tiny terminals still get exactly their size.
  for (size_t rows : {1u, 3u, 5u, 6u}) EXPECT_EQ(render_top(snapshot(), st, 20, rows, 30).size(), rows);
}

// Counts that may include objects freed without an event carry the same
// "<=" as the table report's ATTRIBUTED column.
TEST(TopView, UpperBoundCountsAreMarked) {
  TopState st;
  auto s = snapshot();
  s.caches[0].upper_bound_reasons = {"3 free events were lost"};
  const auto lines = render_top(s, st, 20, 24, 80);
  EXPECT_NE(lines[1].text.find("kmalloc-2k: slab +2000, held <=2000 (100%)"), std::string::npos) << lines[1].text;
}

TEST(TopView, SelectExpandCollapse) {
  TopState st;
  const Snapshot s = snapshot();
  EXPECT_EQ(top_key(st, kKeyDown, s, 20), TopAction::redraw);
  EXPECT_EQ(st.selected_id, "id1");
  EXPECT_EQ(top_key(st, '\r', s, 20), TopAction::redraw);
  auto lines = render_top(s, st, 20, 24, 80);
  EXPECT_TRUE(lines[4].selected);
  EXPECT_EQ(lines[4].text[0], '-');
  EXPECT_EQ(texts(lines)[5], "        inner1+0x1");
  EXPECT_EQ(texts(lines)[6], "        middle+0x2");
  EXPECT_EQ(texts(lines)[7], "        outer+0x3");
  top_key(st, 'j', s, 20);
  top_key(st, 'j', s, 20);  // stays on the last
  EXPECT_EQ(st.selected_id, "id2");
  top_key(st, kKeyUp, s, 20);
  top_key(st, kKeyLeft, s, 20);
  EXPECT_TRUE(st.expanded.empty());
}

TEST(TopView, SelectionScrollsIntoView) {
  TopState st;
  const Snapshot s = snapshot(40);
  for (int i = 0; i < 30; ++i) top_key(st, kKeyDown, s, 0);
  const auto lines = render_top(s, st, 0, 24, 80);
  size_t selected = 0;
  for (const auto& l : lines) selected += l.selected;
  EXPECT_EQ(selected, 1u);
  EXPECT_TRUE(shows(lines, "inner30+0x1"));
}

TEST(TopView, SortPauseWriteQuit) {
  TopState st;
  const Snapshot s = snapshot();
  EXPECT_EQ(top_key(st, 'o', s, 20), TopAction::resort);
  EXPECT_EQ(st.sort, SortKey::objects);
  EXPECT_EQ(top_key(st, 'g', s, 20), TopAction::resort);
  EXPECT_EQ(st.sort, SortKey::growth);
  EXPECT_EQ(top_key(st, 'a', s, 20), TopAction::resort);
  EXPECT_EQ(st.sort, SortKey::age);
  EXPECT_EQ(top_key(st, 'v', s, 20), TopAction::resort);
  EXPECT_EQ(st.sort, SortKey::verdict);
  EXPECT_NE(render_top(s, st, 20, 24, 80)[0].text.find("sort verdict"), std::string::npos);
  EXPECT_EQ(top_key(st, 'a', s, 20), TopAction::resort);
  EXPECT_EQ(top_key(st, 'p', s, 20), TopAction::redraw);
  EXPECT_TRUE(st.paused);
  auto lines = render_top(s, st, 20, 24, 80);
  EXPECT_NE(lines[0].text.find("[PAUSED]"), std::string::npos);
  EXPECT_NE(lines[0].text.find("sort age"), std::string::npos);
  EXPECT_NE(lines[23].text.find("paused"), std::string::npos);
  EXPECT_EQ(top_key(st, 'w', s, 20), TopAction::write_svg);
  EXPECT_EQ(top_key(st, 'q', s, 20), TopAction::quit);
  EXPECT_EQ(top_key(st, 'x', s, 20), TopAction::none);
}

TEST(TopView, HealthBarCountsEveryDrop) {
  Snapshot s = snapshot();
  s.health.counters[TracerCounter::recursion_misses] = 2;
  s.health.counters[TracerCounter::stack_errors] = 1;
  const auto lines = render_top(s, TopState{}, 20, 24, 80);
  EXPECT_EQ(lines[22].text, "live map 5/1000  DROPS 3: stack capture failed 1, recursion misses 2");
}

TEST(TopView, HostileNamesCannotDriveTheTerminal) {
  Snapshot s = snapshot();
  s.stacks[0].frames = {"evil\033[2J\033]0;pwned\007+0x1 [m\xff]"};
  s.caches[0].name = "c\033[31m";
  TopState st;
  st.expanded.insert("id0");
  for (const auto& l : render_top(s, st, 20, 24, 120))
    for (char c : l.text) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << l.text;
  EXPECT_EQ(terminal_safe("a\033[2Jb\xff"), "a?[2Jb?");
}

TEST(TopView, ByTaskNamesTheTaskBeforeTheFrame) {
  Snapshot s = snapshot(1);
  s.by = "comm";
  s.stacks[0].task = "holder";
  TopState st;
  const auto lines = render_top(s, st, 20, 24, 80);
  EXPECT_NE(lines[3].text.find("[holder] inner0"), std::string::npos) << lines[3].text;
  for (const auto& l : lines) EXPECT_LE(l.text.size(), 80u) << l.text;
}
