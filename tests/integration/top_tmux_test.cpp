// `top` as a person uses it, in a real 80x24 terminal (tmux): the held stack
// shows, keys sort, expand, pause and write an SVG, q quits and detaches.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <thread>

#include "support.h"

namespace slableak::test {
namespace {

using std::chrono::seconds;

class Tmux {
 public:
  explicit Tmux(const std::string& dir) : sock_(dir + "/tmux.sock") {}
  ~Tmux() { tmux({"kill-server"}); }  // the server on our own socket only
  RunResult tmux(std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/tmux", "-S", sock_});
    return run_command(args, seconds(20));
  }
  std::string capture() { return tmux({"capture-pane", "-p", "-t", "top"}).out; }
  // Polls the pane until @needle shows; "" if it never does in @limit.
  std::string wait_for(const std::string& needle, seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      const std::string pane = capture();
      if (pane.find(needle) != std::string::npos) return pane;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return "";
  }
  void keys(const std::vector<std::string>& k) {
    std::vector<std::string> a = {"send-keys", "-t", "top"};
    a.insert(a.end(), k.begin(), k.end());
    tmux(a);
  }

 private:
  std::string sock_;
};

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  size_t start = 0;
  for (size_t nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1) v.push_back(s.substr(start, nl - start));
  return v;
}

TEST(TopTerminal, InteractiveInTmux) {
  REQUIRE_BPF();
  if (access("/usr/bin/tmux", X_OK) != 0) {
    if (running_in_ci()) FAIL() << "CI=true but /usr/bin/tmux missing (scripts/setup.sh installs it)";
    GTEST_SKIP() << "/usr/bin/tmux missing";
  }
  const std::string dir = make_temp_dir("slableak-top");
  Tmux t(dir);
  // top runs on the pane's terminal; the pane stays after it exits so the
  // report it prints on leaving can be read.
  const std::string script = "cd " + dir + " && " + slableak_bin() + " top -i 1s -c kmalloc-2k 2>" + dir + "/err.txt";
  ASSERT_EQ(t.tmux({"new-session", "-d", "-s", "top", "-x", "80", "-y", "24", script + "; sleep 60"}).status, 0);
  ASSERT_FALSE(t.wait_for("slableak top", seconds(30)).empty()) << read_file(dir + "/err.txt");
  Holder held("kmalloc", 2000);
  // The held netlink messages: 2000 objects under __alloc_skb, the widest stack.
  const std::string held_pane = t.wait_for("__alloc_skb", seconds(20));
  ASSERT_FALSE(held_pane.empty()) << t.capture() << read_file(dir + "/err.txt");
  const auto rows = lines_of(held_pane);
  EXPECT_EQ(rows.size(), 24u) << held_pane;
  for (const auto& r : rows) EXPECT_LE(r.size(), 80u) << r;
  EXPECT_NE(held_pane.find("drops "), std::string::npos) << held_pane;  // the health bar
  EXPECT_NE(held_pane.find("q quit"), std::string::npos);

  // Pause first, so the held stack stays the selected first row, then
  // expand it: its frames show, netlink_sendmsg among them.
  t.keys({"p"});
  EXPECT_FALSE(t.wait_for("[PAUSED]", seconds(5)).empty()) << t.capture();
  t.keys({"Enter"});
  const std::string open = t.wait_for("netlink_sendmsg", seconds(5));
  EXPECT_FALSE(open.empty()) << t.capture();
  // Sort keys change the header.
  t.keys({"o"});
  EXPECT_FALSE(t.wait_for("sort objects", seconds(5)).empty()) << t.capture();
  t.keys({"g"});
  EXPECT_FALSE(t.wait_for("sort growth", seconds(5)).empty()) << t.capture();
  // w writes an SVG of what is shown into the working directory, a new
  // file: symlinks planted at every name it may use for the next minute
  // (the working directory may be another user's) are neither followed nor
  // replaced.
  const std::string victim = dir + "/victim";
  {
    std::ofstream(victim) << "precious\n";
  }
  const std::time_t now = std::time(nullptr);
  for (std::time_t at = now - 2; at < now + 60; ++at) {
    char stem[64];
    std::tm tm{};
    localtime_r(&at, &tm);
    std::strftime(stem, sizeof stem, "slableak-%Y%m%d-%H%M%S", &tm);
    for (const std::string& n : {std::string(stem) + ".svg", std::string(stem) + ".svg.tmp",
                                 "." + std::string(stem) + ".svg.tmp"})
      ASSERT_EQ(symlink(victim.c_str(), (dir + "/" + n).c_str()), 0) << n;
  }
  t.keys({"w"});
  const std::string wrote = t.wait_for("wrote slableak-", seconds(10));
  ASSERT_FALSE(wrote.empty()) << t.capture();
  const size_t at = wrote.find("wrote ");
  const std::string name = wrote.substr(at + 6, wrote.find(".svg", at) + 4 - at - 6);
  const std::string svg = read_file(dir + "/" + name);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u) << name;
  EXPECT_NE(svg.find("data-n=\"netlink_sendmsg\""), std::string::npos);
  struct stat st{};
  ASSERT_EQ(lstat((dir + "/" + name).c_str(), &st), 0) << name;
  EXPECT_TRUE(S_ISREG(st.st_mode)) << name << " is not a new regular file";
  EXPECT_EQ(read_file(victim), "precious\n") << "a planted symlink was followed";
  // q leaves: the terminal is the shell's again and nothing stays attached.
  t.keys({"q"});
  EXPECT_FALSE(t.wait_for("maps: live", seconds(10)).empty()) << t.capture();  // the plain report after
  EXPECT_EQ(slableak_programs_after(seconds(10)), 0);
}

TEST(TopTerminal, PlainReportWhenNotATerminal) {
  REQUIRE_BPF();
  Child top({slableak_bin(), "top", "-i", "1s", "-c", "kmalloc-2k"});
  ASSERT_FALSE(top.wait_stdout_line("---", seconds(30)).empty()) << top.err();
  ASSERT_FALSE(top.wait_stdout_line("CACHE", seconds(10)).empty()) << top.out();
  top.signal(SIGINT);
  EXPECT_EQ(top.wait_exit(seconds(20)), 0) << top.err();
  EXPECT_EQ(top.out().find("\033["), std::string::npos) << "escape codes on a pipe";
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

}  // namespace
}  // namespace slableak::test
