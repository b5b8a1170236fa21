// The interactive `top` screen as pure code: what a key does to the view
// state, and the lines a terminal of ROWS x COLS shows for a snapshot in that
// state. The terminal itself (raw mode, escape codes, the clock) lives in
// cli/cmd_top.cpp; everything a person sees is decided and tested here.
//
// Screen, top to bottom: a title line (time traced, method, sort key,
// paused), one line of caches (slabinfo delta vs attributed), the column
// header, the stacks (the selected one marked, expanded ones followed by
// their frames), the one-line health bar (drops by reason, map fill) and a
// line of keys or of the last status message.
#pragma once
#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "aggregation.h"
#include "snapshot.h"

namespace slableak {

struct TopState {
  SortKey sort = SortKey::bytes;
  std::string selected_id;           // stack_id of the selected stack ("" = the first)
  std::set<std::string> expanded;    // stack_ids whose frames are shown
  bool paused = false;
  std::string status;                // shown instead of the key help until the next key
  double interval_s = 2;
};

enum class TopAction { none, redraw, resort, quit, write_svg };

// Keys: q quit; up/down or k/j move; Enter, space or right/left expand or
// collapse the selected stack's frames; b/o/a/g sort by bytes, objects,
// age, growth; p pause (the screen keeps the last collection); w write an
// SVG flame graph of what is shown. @shown is the snapshot on screen (its
// stacks in screen order). Key codes: ASCII, or the kKey* values below.
inline constexpr int kKeyUp = 0x100, kKeyDown = 0x101, kKeyRight = 0x102, kKeyLeft = 0x103;
TopAction top_key(TopState& st, int key, const Snapshot& shown, size_t top);

struct TopLine {
  std::string text;  // printable ASCII only, at most COLS characters
  bool selected = false;
  bool header = false;  // title and column header: shown emphasised
};

// Exactly @rows lines (rows >= 6, cols >= 40 give a useful screen; smaller
// still gives @rows lines, each cut to @cols).
std::vector<TopLine> render_top(const Snapshot& s, const TopState& st, size_t top, size_t rows, size_t cols);

// The text of a kernel name for a terminal: control bytes (an escape
// sequence in a hostile module name could drive the terminal) and non-ASCII
// bytes become '?'.
std::string terminal_safe(const std::string& s);

}  // namespace slableak
