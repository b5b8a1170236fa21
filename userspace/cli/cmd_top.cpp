// `top`: on a terminal, an interactive view (render/top_view.h decides what
// is shown and what keys do; this file owns the terminal: raw mode, the
// alternate screen, reading keys, the refresh clock). When stdout is not a
// terminal it prints the plain report once per refresh, as before.
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "flamegraph_svg.h"
#include "live_session.h"
#include "new_file.h"
#include "report.h"
#include "top_view.h"

namespace slableak {
namespace {

using Clock = std::chrono::steady_clock;

// Raw keys and the alternate screen for as long as it lives; the terminal
// is restored on every way out (return, exception, the stop signal path).
class TerminalMode {
 public:
  TerminalMode() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    std::cout << "\033[?1049h\033[?25l" << std::flush;  // alternate screen, cursor hidden
  }
  ~TerminalMode() {
    std::cout << "\033[?25h\033[?1049l" << std::flush;
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  TerminalMode(const TerminalMode&) = delete;
  TerminalMode& operator=(const TerminalMode&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

void window_size(size_t* rows, size_t* cols) {
  winsize ws{};
  *rows = 24;
  *cols = 80;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
    *rows = ws.ws_row;
    *cols = ws.ws_col;
  }
}

// The keys waiting on stdin, arrows decoded from their escape sequences.
std::vector<int> read_keys() {
  std::vector<int> keys;
  char buf[64];
  const ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
  for (ssize_t i = 0; i < n; ++i) {
    if (buf[i] == '\033' && i + 2 < n && (buf[i + 1] == '[' || buf[i + 1] == 'O')) {
      const char c = buf[i + 2];
      i += 2;
      if (c == 'A') keys.push_back(kKeyUp);
      else if (c == 'B') keys.push_back(kKeyDown);
      else if (c == 'C') keys.push_back(kKeyRight);
      else if (c == 'D') keys.push_back(kKeyLeft);
      continue;
    }
    keys.push_back(static_cast<unsigned char>(buf[i]));
  }
  return keys;
}

void draw(const Snapshot& s, const TopState& st, size_t top) {
  size_t rows, cols;
  window_size(&rows, &cols);
  std::string frame = "\033[H";
  const auto lines = render_top(s, st, top, rows, cols);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].selected) frame += "\033[7m";
    else if (lines[i].header) frame += "\033[1m";
    frame += lines[i].text;
    if (lines[i].selected || lines[i].header) frame += "\033[0m";
    frame += "\033[K";
    if (i + 1 < lines.size()) frame += "\r\n";
  }
  std::cout << frame << std::flush;
}

// Writes the flame graph of what is on screen next to the user, into a new
// file: the working directory may be another user's (new_file.h).
std::string write_svg_file(const Snapshot& s, size_t top) {
  char stem[64];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::strftime(stem, sizeof stem, "slableak-%Y%m%d-%H%M%S", &tm);
  std::ostringstream svg;
  write_flamegraph_svg(svg, s, top);
  std::string error;
  const std::string name = write_new_file(".", stem, ".svg", svg.str(), &error);
  return name.empty() ? "could not write the SVG: " + error : "wrote " + name;
}

int run_plain(Session& session, const ReportConfig& r) {
  for (;;) {
    const bool more = session.wait(std::chrono::duration_cast<std::chrono::nanoseconds>(r.interval));
    Snapshot s = session.collect(r.min_age.count());
    sort_stacks(s.stacks, r.sort);
    std::ostringstream frame;
    write_table(frame, s, r.top);
    std::cout << "---\n" << frame.str() << std::flush;
    if (!more) break;
  }
  return 0;
}

}  // namespace

int run_top(const RunConfig& c) {
  const auto& r = c.report;
  auto session = open_live_session(c.trace);
  announce_ready(c.ready_fd, *session, c.trace.caches);
  if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) return run_plain(*session, r);

  TopState st;
  st.sort = r.sort;
  st.interval_s = r.interval.count();
  Snapshot s;
  s.method = session->method();
  {
    TerminalMode term;
    auto next = Clock::now();  // the first collection at once, then every interval
    bool quit = false;
    while (!quit) {
      if (!st.paused && Clock::now() >= next) {
        s = session->collect(r.min_age.count());
        sort_stacks(s.stacks, st.sort);
        next = Clock::now() + std::chrono::duration_cast<Clock::duration>(r.interval);
        draw(s, st, r.top);
      }
      // Keys are read between short waits, so a key is answered at once.
      pollfd p{STDIN_FILENO, POLLIN, 0};
      if (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
        for (int key : read_keys()) {
          switch (top_key(st, key, s, r.top)) {
            case TopAction::quit: quit = true; break;
            case TopAction::resort: sort_stacks(s.stacks, st.sort); break;
            case TopAction::write_svg: st.status = write_svg_file(s, r.top); break;
            case TopAction::redraw: case TopAction::none: break;
          }
        }
        if (!quit) draw(s, st, r.top);
      }
      if (!quit && !session->wait(std::chrono::milliseconds(50))) break;
    }
  }
  // Back on the normal screen: the last view stays readable as the report.
  write_table(std::cout, s, r.top);
  std::cout.flush();
  return 0;
}

}  // namespace slableak
