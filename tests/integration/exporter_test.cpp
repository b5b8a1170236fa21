// The exporter as the fleet uses it: a textfile read by Debian's real
// node_exporter, our own /metrics, both scraped over loopback with curl, the
// output linted by promtool, and an atomic file that a reader never sees
// half-written.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "support.h"
#include "textfile_writer.h"

namespace slableak::test {
namespace {

using std::chrono::seconds;


RunResult run(const std::vector<std::string>& argv, seconds timeout = seconds(30)) {
  return run_command(argv, timeout);
}

RunResult curl(const std::string& url) { return run({"/usr/bin/curl", "-sS", "--max-time", "10", url}); }

// A free loopback port: bind to 0 and ask.

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// Lines of @text that are samples of @family carrying every label in @labels.
std::vector<std::string> samples(const std::string& text, const std::string& family,
                                 const std::vector<std::string>& labels = {}) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(family + "{", 0) != 0 && line.rfind(family + " ", 0) != 0) continue;
    bool all = true;
    for (const auto& l : labels) all = all && contains(line, l);
    if (all) out.push_back(line);
  }
  return out;
}

double value_of(const std::string& sample) { return std::stod(sample.substr(sample.rfind(' ') + 1)); }

// Debian's node_exporter serving only the textfile collector over @textdir:
// its scrape, once it answers, with the collector reporting no error.
void scrape_node_exporter(const std::string& textdir, RunResult* scrape) {
  const int ne_port = free_port();
  Child ne({NODE_EXPORTER_BIN, "--collector.disable-defaults", "--collector.textfile",
            "--collector.textfile.directory=" + textdir, "--web.listen-address=127.0.0.1:" + std::to_string(ne_port)});
  for (int i = 0; i < 50; ++i) {
    *scrape = curl("http://127.0.0.1:" + std::to_string(ne_port) + "/metrics");
    if (scrape->status == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(scrape->status, 0) << scrape->err << ne.err();
  const auto errors = samples(scrape->out, "node_textfile_scrape_error");
  ASSERT_EQ(errors.size(), 1u) << scrape->out;
  EXPECT_EQ(value_of(errors[0]), 0);
}

class Exporter : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("slableak-test"); }
  void TearDown() override { run({"/bin/rm", "-rf", dir_}); }
  std::string dir_;
};

TEST_F(Exporter, TextfileThroughNodeExporterAndOwnEndpoint) {
  REQUIRE_BPF();
  const int our_port = free_port();
  Child exp({slableak_bin(), "export", "--interval", "2s", "--textfile-dir", dir_, "--sample-every", "1",
             "--listen", "127.0.0.1:" + std::to_string(our_port)});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  Holder held("kmalloc", 3000);
  const std::string prom = dir_ + "/slableak.prom";
  // Two intervals so the held set is in a written file.
  std::this_thread::sleep_for(seconds(5));
  const std::string text = read_file(prom);
  ASSERT_FALSE(text.empty());

  // promtool lints our real output: not one warning.
  {
    Child lint({PROMTOOL_BIN, "check", "metrics"});
    lint.write_line(text);
    lint.close_stdin();
    EXPECT_EQ(lint.wait_exit(seconds(30)), 0) << lint.out() << lint.err();
    EXPECT_EQ(lint.out() + lint.err(), "") << "promtool reported problems";
  }

  // Debian's node_exporter, textfile collector only, on a loopback port.
  RunResult scrape;
  ASSERT_NO_FATAL_FAILURE(scrape_node_exporter(dir_, &scrape));

  for (const std::string& body :
       {scrape.out, curl("http://127.0.0.1:" + std::to_string(our_port) + "/metrics").out}) {
    // The held leak: its stack's info names the kernel function, and its
    // outstanding objects are there under the same stack id.
    const auto info = samples(body, "slableak_stack_info", {"cache=\"kmalloc-2k\"", "netlink_sendmsg+0x"});
    ASSERT_EQ(info.size(), 1u) << body;
    const auto id_at = info[0].find("stack_id=\"");
    const std::string id = info[0].substr(id_at + 10, 16);
    const auto objs = samples(body, "slableak_stack_outstanding_objects", {"stack_id=\"" + id + "\""});
    ASSERT_EQ(objs.size(), 1u);
    EXPECT_NEAR(value_of(objs[0]), 3000, 60);
    EXPECT_EQ(samples(body, "slableak_build_info").size(), 1u);
    // No raw kernel address anywhere (KASLR).
    EXPECT_FALSE(contains(body, "0xffffffff")) << "raw kernel address in metrics";
  }

  // Only GET /metrics and the page at / are served.
  EXPECT_TRUE(contains(run({"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                            "http://127.0.0.1:" + std::to_string(our_port) + "/index.html"}).out, "404"));
  EXPECT_TRUE(contains(run({"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                            "http://127.0.0.1:" + std::to_string(our_port) + "/"}).out, "200"));
  EXPECT_TRUE(contains(run({"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                            "http://127.0.0.1:" + std::to_string(our_port) + "/metrics"}).out, "405"));

  // SIGTERM: the file goes (stale numbers must not be scraped), exit 0.
  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(20)), 0) << exp.err();
  EXPECT_NE(access(prom.c_str(), F_OK), 0) << "slableak.prom left behind after SIGTERM";
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

TEST_F(Exporter, OnceWritesAndExits) {
  REQUIRE_BPF();
  const RunResult r = run_slableak({"export", "--once", "--interval", "1s", "--textfile-dir", dir_});
  EXPECT_EQ(r.status, 0) << r.err;
  const std::string text = read_file(dir_ + "/slableak.prom");
  ASSERT_EQ(samples(text, "slableak_sample_every").size(), 1u);
  EXPECT_GT(value_of(samples(text, "slableak_sample_every")[0]), 1) << "the exporter samples by default";
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// Exit codes per cause (docs/operations.md): what may come right by itself
// exits 4, which the unit restarts; what needs a person exits 2, which it
// does not.
TEST_F(Exporter, BadDirectoryFailsAtStart) {
  REQUIRE_BPF();
  // Missing: a package install or a late mount may create it.
  RunResult r = run_slableak({"export", "--textfile-dir", dir_ + "/missing"});
  EXPECT_EQ(r.status, 4);
  EXPECT_TRUE(contains(r.err, "create it, or pass --textfile-dir")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // A file where the directory should be: a person has to act.
  r = run_slableak({"export", "--textfile-dir", "/etc/hostname"});
  EXPECT_EQ(r.status, 2) << r.err;

  // A directory nobody can create files in, root included.
  r = run_slableak({"export", "--textfile-dir", "/proc"});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.err, "not writable")) << r.err;
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// A port someone else holds may be free in 30 s: exit 4, restarted. A
// --listen that cannot be right is exit 2.
TEST_F(Exporter, PortTakenIsRestartableBadListenIsNot) {
  REQUIRE_BPF();
  const int taken = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(taken, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(taken, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(taken, 1), 0);
  ASSERT_EQ(getsockname(taken, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string port = std::to_string(ntohs(a.sin_port));
  RunResult r = run_slableak({"export", "--no-textfile", "--listen", "127.0.0.1:" + port});
  close(taken);
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_TRUE(contains(r.err, "cannot listen on 127.0.0.1:" + port)) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = run_slableak({"export", "--no-textfile", "--listen", "127.0.0.1:notaport"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// A reader never sees a partial file while the writer replaces it.
TEST_F(Exporter, AtomicRewriteUnderConcurrentReads) {
  TextfileWriter w(dir_, "slableak.prom");
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    for (int gen = 0; !stop; ++gen) {
      // Files of very different sizes make a torn read easy to spot.
      std::string body;
      const int lines = 1 + (gen % 7) * 400;
      for (int i = 0; i < lines; ++i) body += "slableak_test_line{gen=\"" + std::to_string(gen) + "\"} " + std::to_string(i) + "\n";
      body += "# END " + std::to_string(gen) + " " + std::to_string(lines) + "\n";
      std::string err;
      ASSERT_TRUE(w.write(body, &err)) << err;
      ++writes;
    }
  });
  while (writes == 0) std::this_thread::yield();
  int reads = 0, bad = 0;
  const auto deadline = std::chrono::steady_clock::now() + seconds(120);
  for (; (reads < 1000 || writes < 200) && std::chrono::steady_clock::now() < deadline; ++reads) {
    const std::string text = read_file(dir_ + "/slableak.prom");
    const auto end = text.rfind("# END ");
    if (end == std::string::npos || text.back() != '\n') {
      ++bad;
      continue;
    }
    int gen = -1, lines = -1;
    std::sscanf(text.c_str() + end, "# END %d %d", &gen, &lines);
    const std::string tag = "gen=\"" + std::to_string(gen) + "\"";
    int count = 0;
    for (size_t p = text.find(tag); p != std::string::npos; p = text.find(tag, p + 1)) ++count;
    if (count != lines) ++bad;
  }
  stop = true;
  writer.join();
  EXPECT_EQ(bad, 0) << "torn or partial reads out of " << reads;
  EXPECT_GE(reads, 1000);
  EXPECT_GE(writes.load(), 200);
}

// --by comm: task labels are unique by construction. Processes named
// "other" (the name of the row of tasks past --by-limit) and two whose
// comms are alike in their first 14 bytes (0x01 each) hold objects on one
// stack, with more holders than --by-limit so that "other" exists too.
// promtool takes the file, no label set is there twice, and node_exporter
// serves every held object. Fails where labels were cut at 16 escaped
// characters and a comm "other" met the overflow row. About 10 s.
TEST_F(Exporter, TaskLabelsNeverRepeatASeries) {
  REQUIRE_BPF();
  const std::string textdir = dir_ + "/text";
  ASSERT_EQ(mkdir(textdir.c_str(), 0755), 0);
  Child exp({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", textdir, "--sample-every", "1", "--by",
             "comm", "--by-limit", "3", "--top-stacks", "100"});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  // A comm is the name the program was started by (the first 15 bytes).
  const std::vector<std::string> names = {"other", std::string(14, '\x01') + "A", std::string(14, '\x01') + "B",
                                          "holder-4", "holder-5"};
  constexpr int kEach = 200;
  std::vector<std::unique_ptr<Child>> holders;
  for (const auto& n : names) {
    const std::string link = dir_ + "/" + n;
    ASSERT_EQ(symlink(holder_bin().c_str(), link.c_str()), 0);
    holders.push_back(std::make_unique<Child>(std::vector<std::string>{link, "kmalloc", std::to_string(kEach)}));
    ASSERT_FALSE(holders.back()->wait_stdout_line("ready", seconds(20)).empty()) << holders.back()->err();
  }
  std::this_thread::sleep_for(seconds(3));  // two writes with every holder in
  const std::string text = read_file(textdir + "/slableak.prom");
  ASSERT_FALSE(text.empty());
  {
    Child lint({PROMTOOL_BIN, "check", "metrics"});
    lint.write_line(text);
    lint.close_stdin();
    EXPECT_EQ(lint.wait_exit(seconds(30)), 0) << lint.out() << lint.err();
    EXPECT_EQ(lint.out() + lint.err(), "") << "promtool reported problems";
  }
  std::map<std::string, int> series;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') ++series[line.substr(0, line.rfind(' '))];
  for (const auto& [s, n] : series) EXPECT_EQ(n, 1) << "twice: " << s;

  RunResult scrape;
  ASSERT_NO_FATAL_FAILURE(scrape_node_exporter(textdir, &scrape));
  // Every held object is served: the netlink stack's rows add up to what
  // the holders keep (and what other processes hold there).
  const auto info = samples(scrape.out, "slableak_stack_info", {"cache=\"kmalloc-2k\"", "netlink_sendmsg+0x"});
  ASSERT_EQ(info.size(), 1u) << scrape.out;
  const std::string id = info[0].substr(info[0].find("stack_id=\"") + 10, 16);
  double served = 0;
  for (const auto& smp : samples(scrape.out, "slableak_stack_outstanding_objects", {"stack_id=\"" + id + "\""}))
    served += value_of(smp);
  EXPECT_GE(served, double(kEach * names.size())) << scrape.out;
  for (auto& h : holders) h->write_line("quit");
  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(20)), 0) << exp.err();
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

}  // namespace
}  // namespace slableak::test
