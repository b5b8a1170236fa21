// Fault scenarios on the real kernel (docs/reliability.md): a live map far
// too small, a textfile directory that fills up, SIGKILL, a second instance,
// planted symlinks, capabilities after attach, and abusive HTTP clients.
// Tests that load BPF use REQUIRE_BPF(); the TextfileWriter and MetricsServer
// tests run in-process without BPF (http_reply, the pure part, is tested in
// tests/unit/http_request_test.cpp).
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "error.h"
#include "metrics_server.h"
#include "privileges.h"
#include "support.h"
#include "textfile_writer.h"

namespace slableak::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;


void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

bool is_symlink(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

bool is_regular(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.push_back(e->d_name);
    closedir(d);
  }
  return out;
}

bool has_temp_file(const std::string& dir) {
  for (const auto& n : dir_entries(dir))
    if (n.rfind(".slableak.prom.tmp.", 0) == 0) return true;
  return false;
}

// The value of the first sample of @family (with @label, if given) in
// Prometheus text; -1 if there is none.
double metric(const std::string& text, const std::string& family, const std::string& label = "") {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(family + "{", 0) != 0 && line.rfind(family + " ", 0) != 0) continue;
    if (!label.empty() && !contains(line, label)) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

// A complete exposition ends with the last family the renderer writes.
bool complete_exposition(const std::string& text) {
  return !text.empty() && text.back() == '\n' && metric(text, "slableak_last_update_timestamp_seconds") > 0 &&
         metric(text, "slableak_build_info") == 1;
}

RunResult run(const std::vector<std::string>& argv, seconds timeout = seconds(30)) {
  return run_command(argv, timeout);
}

// promtool lints the text: exit 0 and not one warning.
void expect_promtool_clean(const std::string& text) {
  Child lint({PROMTOOL_BIN, "check", "metrics"});
  lint.write_line(text);
  lint.close_stdin();
  EXPECT_EQ(lint.wait_exit(seconds(30)), 0) << lint.out() << lint.err();
  EXPECT_EQ(lint.out() + lint.err(), "") << "promtool reported problems";
}

// Waits until @path holds a complete exposition newer than @after (its
// slableak_last_update_timestamp_seconds); returns the text or "".
std::string wait_for_write(const std::string& path, double after, seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const std::string t = read_file(path);
    if (complete_exposition(t) && metric(t, "slableak_last_update_timestamp_seconds") > after) return t;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return "";
}


// A raw TCP client on loopback.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
  }
  ~Client() {
    if (fd_ >= 0) close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends what it can; false once the server closed or reset.
  bool send_all(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads until the server closes (or resets) or @timeout; true if closed.
  bool read_to_close(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    char buf[65536];
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
      got_.append(buf, static_cast<size_t>(n));
    }
  }
  const std::string& got() const { return got_; }
  int status() const { return got_.size() > 12 && got_.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(got_.substr(9, 3)) : 0; }
  std::string body() const {
    const auto p = got_.find("\r\n\r\n");
    return p == std::string::npos ? "" : got_.substr(p + 4);
  }

 private:
  int fd_ = -1;
  std::string got_;
};

// One request, the whole answer.
Client& request(Client& c, const std::string& raw, milliseconds timeout = milliseconds(5000)) {
  c.send_all(raw);
  c.read_to_close(timeout);
  return c;
}

// CapEff/CapPrm/CapBnd/NoNewPrivs of one task, from its status file.
struct TaskCaps {
  uint64_t eff = 0, prm = 0, bnd = 0;
  int no_new_privs = -1;
};
TaskCaps caps_of(const std::string& status_path) {
  TaskCaps c;
  std::istringstream in(read_file(status_path));
  std::string line;
  while (std::getline(in, line)) {
    auto hexval = [&](const char* key, uint64_t* out) {
      if (line.rfind(key, 0) == 0) *out = std::stoull(line.substr(std::strlen(key)), nullptr, 16);
    };
    hexval("CapEff:", &c.eff);
    hexval("CapPrm:", &c.prm);
    hexval("CapBnd:", &c.bnd);
    if (line.rfind("NoNewPrivs:", 0) == 0) c.no_new_privs = std::stoi(line.substr(11));
  }
  return c;
}

class Fault : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("slableak-fault"); }
  void TearDown() override {
    if (mounted_) umount2(mnt_.c_str(), MNT_DETACH);
    run({"/bin/rm", "-rf", dir_});
  }
  // A tmpfs of @size inside the test's directory.
  std::string tiny_tmpfs(const std::string& size) {
    mnt_ = dir_ + "/tiny";
    mkdir(mnt_.c_str(), 0755);
    const std::string opts = "size=" + size + ",mode=0755";
    if (mount("tmpfs", mnt_.c_str(), "tmpfs", 0, opts.c_str()) != 0)
      throw std::runtime_error(std::string("mount tmpfs: ") + std::strerror(errno));
    mounted_ = true;
    return mnt_;
  }
  // A new, read-only directory at @path (an empty tmpfs mounted read-only).
  void read_only_directory_at(const std::string& path) {
    mnt_ = path;
    mkdir(mnt_.c_str(), 0755);
    if (mount("tmpfs", mnt_.c_str(), "tmpfs", MS_RDONLY, "size=64k,mode=0755") != 0)
      throw std::runtime_error(std::string("mount read-only tmpfs: ") + std::strerror(errno));
    mounted_ = true;
  }
  std::string dir_, mnt_;
  bool mounted_ = false;
};

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// --- the live map far too small ------------------------------------------

TEST_F(Fault, LiveMapFarTooSmallCountsDropsAndKeepsWhatFits) {
  REQUIRE_BPF();
  Child snap({slableak_bin(), "snapshot", "--ready-fd", "3", "--max-tracked", "100", "--duration", "8s", "--format", "json", "--top", "0"});
  ASSERT_FALSE(snap.wait_ready(seconds(20)).empty()) << snap.err();
  Holder held("kmalloc", 10000);
  ASSERT_EQ(snap.wait_exit(seconds(60)), 0) << snap.err();
  const json j = json::parse(snap.out());
  const auto& t = j.at("tracer");
  EXPECT_GE(t.at("drop_live_map_full").get<int64_t>(), 9000) << t.dump();
  EXPECT_EQ(t.at("live_capacity").get<int64_t>(), 100);
  EXPECT_LE(t.at("live_objects").get<int64_t>(), 100);
  // What it could track is still attributed, and no more than fits.
  const int64_t held_seen = objects_under(j, "netlink_sendmsg");
  EXPECT_GT(held_seen, 0) << j.dump(2);
  EXPECT_LE(held_seen, 100);
  ASSERT_EQ(j.at("caches").size(), 1u);
  EXPECT_LE(j.at("caches")[0].at("attributed_objects").get<int64_t>(), 100);
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// --- the textfile directory fills up -------------------------------------

TEST_F(Fault, FullTextfileDirKeepsThePreviousFileAndRecovers) {
  REQUIRE_BPF();
  const std::string tiny = tiny_tmpfs("512k");
  const std::string prom = tiny + "/slableak.prom";
  const int port = free_port();
  Child exp({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", tiny, "--listen",
             "127.0.0.1:" + std::to_string(port)});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  ASSERT_FALSE(wait_for_write(prom, 0, seconds(10)).empty()) << exp.err();

  // Fill the file system to the last page.
  const std::string filler = tiny + "/filler";
  {
    const int fd = open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    const std::string chunk(4096, 'x');
    while (::write(fd, chunk.data(), chunk.size()) > 0) {
    }
    EXPECT_EQ(errno, ENOSPC);
    close(fd);
  }
  const std::string failed = exp.wait_stderr_line("slableak: textfile not updated", seconds(10));
  ASSERT_FALSE(failed.empty()) << exp.err();
  EXPECT_TRUE(contains(failed, "No space left on device")) << failed;
  const std::string kept = read_file(prom);
  struct stat before {};
  ASSERT_EQ(stat(prom.c_str(), &before), 0);
  // The next interval fails too and leaves the same complete file, and no
  // temporary file behind; the endpoint counts it.
  const int port_ = port;
  auto errors_now = [port_] {
    Client c(port_);
    request(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    return c.status() == 200 ? metric(c.body(), "slableak_textfile_write_errors_total") : -1;
  };
  for (int i = 0; i < 100 && errors_now() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_GE(errors_now(), 3) << exp.err();
  EXPECT_EQ(read_file(prom), kept);
  struct stat after {};
  ASSERT_EQ(stat(prom.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_TRUE(complete_exposition(kept)) << kept;
  expect_promtool_clean(kept);
  EXPECT_FALSE(has_temp_file(tiny)) << "temporary file left after a failed write";
  // The endpoint says so at once (at least the first failure: the second
  // may be a moment from reaching it).
  Client c(port);
  request(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(c.status(), 200) << c.got();
  EXPECT_GE(metric(c.body(), "slableak_textfile_write_errors_total"), 1);

  // Space is back: the next interval writes, and the file counts the failures.
  ASSERT_EQ(unlink(filler.c_str()), 0);
  const std::string fresh = wait_for_write(prom, metric(kept, "slableak_last_update_timestamp_seconds"), seconds(10));
  ASSERT_FALSE(fresh.empty()) << exp.err();
  EXPECT_GE(metric(fresh, "slableak_textfile_write_errors_total"), 3);
  expect_promtool_clean(fresh);

  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(20)), 0) << exp.err();
  // The same failure every interval is said once, not once per interval
  // (a summary follows every 10 minutes while it lasts), and its end once.
  EXPECT_EQ(count_of(exp.err(), "textfile not updated"), 1u) << exp.err();
  EXPECT_EQ(count_of(exp.err(), "textfile written again: recovered after "), 1u) << exp.err();
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// --once on a full directory: the one write fails, so the run fails.
TEST_F(Fault, OnceOnAFullDirectoryExitsNonZero) {
  REQUIRE_BPF();
  const std::string tiny = tiny_tmpfs("64k");
  {
    const int fd = open((tiny + "/filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    const std::string chunk(4096, 'x');
    while (::write(fd, chunk.data(), chunk.size()) > 0) {
    }
    close(fd);
  }
  const RunResult r = run_slableak({"export", "--once", "--interval", "1s", "--textfile-dir", tiny});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "textfile not updated")) << r.err;
  EXPECT_TRUE(contains(r.err, "No space left on device")) << r.err;
  EXPECT_FALSE(has_temp_file(tiny));
  EXPECT_NE(access((tiny + "/slableak.prom").c_str(), F_OK), 0);
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// The same, in-process: a write that fails for lack of space removes its
// temporary file and leaves the previous file byte for byte.
TEST_F(Fault, FailedWriteCleansItsTemporaryFile) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  const std::string tiny = tiny_tmpfs("64k");
  TextfileWriter w(tiny, "slableak.prom");
  std::string err;
  ASSERT_TRUE(w.write("first 1\n", &err)) << err;
  const std::string big(256 * 1024, 'y');
  EXPECT_FALSE(w.write(big, &err));
  EXPECT_TRUE(contains(err, "No space left on device")) << err;
  EXPECT_EQ(read_file(tiny + "/slableak.prom"), "first 1\n");
  EXPECT_FALSE(has_temp_file(tiny));
  ASSERT_TRUE(w.write("second 2\n", &err)) << err;
  EXPECT_EQ(read_file(tiny + "/slableak.prom"), "second 2\n");
}

// --- SIGKILL ---------------------------------------------------------------

TEST_F(Fault, SigkillLeavesNothingLoadedAndTheLastFileIntact) {
  REQUIRE_BPF();
  const std::string prom = dir_ + "/slableak.prom";
  Child exp({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", dir_});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  std::string last = wait_for_write(prom, 0, seconds(10));
  ASSERT_FALSE(last.empty()) << exp.err();
  ASSERT_FALSE(wait_for_write(prom, metric(last, "slableak_last_update_timestamp_seconds"), seconds(10)).empty());
  exp.signal(SIGKILL);
  EXPECT_EQ(exp.wait_exit(seconds(10)), 128 + SIGKILL);
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0) << "BPF programs outlived a SIGKILLed exporter";
  const std::string text = read_file(prom);
  EXPECT_TRUE(complete_exposition(text)) << text;
  expect_promtool_clean(text);

  // A successor takes the directory over: the dead one's lock is gone with
  // it, and temporary files killed writers leave are cleared.
  const std::string stale = dir_ + "/.slableak.prom.tmp.4194999";
  write_file(stale, "half a file");
  Child next({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", dir_});
  ASSERT_FALSE(next.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << next.err();
  EXPECT_NE(access(stale.c_str(), F_OK), 0) << "stale temporary file not removed";
  EXPECT_FALSE(wait_for_write(prom, metric(text, "slableak_last_update_timestamp_seconds"), seconds(10)).empty());
  next.signal(SIGTERM);
  EXPECT_EQ(next.wait_exit(seconds(20)), 0) << next.err();
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// --- a second instance ------------------------------------------------------

// Two tracing sessions at once each get their own maps and programs: both
// see the same held objects.
TEST_F(Fault, TwoSnapshotsAtOnceBothWork) {
  REQUIRE_BPF();
  Child a({slableak_bin(), "snapshot", "--ready-fd", "3", "--duration", "8s", "--format", "json", "--top", "0"});
  Child b({slableak_bin(), "snapshot", "--ready-fd", "3", "--duration", "8s", "--format", "json", "--top", "0"});
  ASSERT_FALSE(a.wait_ready(seconds(20)).empty()) << a.err();
  ASSERT_FALSE(b.wait_ready(seconds(20)).empty()) << b.err();
  Holder held("kmalloc", 1000);
  ASSERT_EQ(a.wait_exit(seconds(60)), 0) << a.err();
  ASSERT_EQ(b.wait_exit(seconds(60)), 0) << b.err();
  EXPECT_NEAR(objects_under(json::parse(a.out()), "netlink_sendmsg"), 1000, 20);
  EXPECT_NEAR(objects_under(json::parse(b.out()), "netlink_sendmsg"), 1000, 20);
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// Two exporters on one textfile directory would both rewrite slableak.prom:
// the second is refused before it attaches anything; on another directory
// it runs.
TEST_F(Fault, SecondExporterOnTheSameDirectoryIsRefused) {
  REQUIRE_BPF();
  const std::string prom = dir_ + "/slableak.prom";
  Child first({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", dir_});
  ASSERT_FALSE(first.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << first.err();
  const std::string text = wait_for_write(prom, 0, seconds(10));
  ASSERT_FALSE(text.empty());
  const int programs = loaded_slableak_programs();

  for (const std::vector<std::string>& extra : {std::vector<std::string>{}, std::vector<std::string>{"--once"}}) {
    std::vector<std::string> args{"export", "--interval", "1s", "--textfile-dir", dir_};
    args.insert(args.end(), extra.begin(), extra.end());
    const RunResult r = run_slableak(args);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_TRUE(contains(r.err, "another slableak exporter (pid " + std::to_string(first.pid()) + ")")) << r.err;
    EXPECT_TRUE(contains(r.err, "another --textfile-dir")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "expected one line: " << r.err;
    EXPECT_EQ(loaded_slableak_programs(), programs) << "the refused exporter attached programs";
  }
  // The first one did not notice.
  EXPECT_FALSE(wait_for_write(prom, metric(text, "slableak_last_update_timestamp_seconds"), seconds(10)).empty());

  // Another directory: both run side by side.
  const std::string other = make_temp_dir("slableak-fault");
  Child second({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", other});
  ASSERT_FALSE(second.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << second.err();
  EXPECT_FALSE(wait_for_write(other + "/slableak.prom", 0, seconds(10)).empty()) << second.err();
  second.signal(SIGTERM);
  EXPECT_EQ(second.wait_exit(seconds(20)), 0) << second.err();
  run({"/bin/rm", "-rf", other});

  first.signal(SIGTERM);
  EXPECT_EQ(first.wait_exit(seconds(20)), 0) << first.err();
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
  // Lock released: a new one starts.
  const RunResult again = run_slableak({"export", "--once", "--interval", "1s", "--textfile-dir", dir_});
  EXPECT_EQ(again.status, 0) << again.err;
}

// --- symlinks planted in the directory -------------------------------------

TEST_F(Fault, PlantedSymlinksAreNeverFollowedInProcess) {
  const std::string victim_dir = make_temp_dir("slableak-fault");
  const std::string victim = victim_dir + "/victim", victim_tmp = victim_dir + "/victim-tmp",
                    victim_stale = victim_dir + "/victim-stale";
  for (const auto& v : {victim, victim_tmp, victim_stale}) write_file(v, "precious\n");
  const std::string prom = dir_ + "/slableak.prom";
  ASSERT_EQ(symlink(victim.c_str(), prom.c_str()), 0);
  // A stale temporary name of another process, pointing elsewhere.
  ASSERT_EQ(symlink(victim_stale.c_str(), (dir_ + "/.slableak.prom.tmp.1").c_str()), 0);
  {
    TextfileWriter w(dir_, "slableak.prom");
    EXPECT_FALSE(is_symlink(dir_ + "/.slableak.prom.tmp.1")) << "stale temporary name not cleared";
    // Our own temporary name, planted after we started.
    const std::string tmp = dir_ + "/" + w.temp_name();
    ASSERT_EQ(symlink(victim_tmp.c_str(), tmp.c_str()), 0);
    std::string err;
    ASSERT_TRUE(w.write("slableak_test 1\n", &err)) << err;
    EXPECT_TRUE(is_regular(prom));
    EXPECT_EQ(read_file(prom), "slableak_test 1\n");
    EXPECT_FALSE(is_symlink(tmp));
    ASSERT_EQ(symlink(victim_tmp.c_str(), tmp.c_str()), 0);
    ASSERT_TRUE(w.probe(&err)) << err;
    ASSERT_EQ(symlink(victim_tmp.c_str(), tmp.c_str()), 0);
    w.remove();
    EXPECT_NE(access(prom.c_str(), F_OK), 0);
  }
  for (const auto& v : {victim, victim_tmp, victim_stale}) EXPECT_EQ(read_file(v), "precious\n") << v;

  // A symlink at the lock's name is refused, not followed.
  run({"/bin/rm", "-f", dir_ + "/.slableak.prom.lock"});
  ASSERT_EQ(symlink(victim.c_str(), (dir_ + "/.slableak.prom.lock").c_str()), 0);
  try {
    TextfileWriter w(dir_, "slableak.prom");
    ADD_FAILURE() << "a symlinked lock file was accepted";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "symlink")) << e.what();
  }
  EXPECT_EQ(read_file(victim), "precious\n");
  run({"/bin/rm", "-rf", victim_dir});
}

TEST_F(Fault, PlantedSymlinksAreNeverFollowedByTheExporter) {
  REQUIRE_BPF();
  const std::string victim_dir = make_temp_dir("slableak-fault");
  const std::string victim = victim_dir + "/victim", victim_tmp = victim_dir + "/victim-tmp";
  for (const auto& v : {victim, victim_tmp}) write_file(v, "precious\n");
  const std::string prom = dir_ + "/slableak.prom";
  ASSERT_EQ(symlink(victim.c_str(), prom.c_str()), 0);
  Child exp({slableak_bin(), "export", "--interval", "2s", "--textfile-dir", dir_});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  // Started, not yet written: plant at its temporary name too.
  const std::string tmp = dir_ + "/.slableak.prom.tmp." + std::to_string(exp.pid());
  ASSERT_EQ(symlink(victim_tmp.c_str(), tmp.c_str()), 0);
  const std::string text = wait_for_write(prom, 0, seconds(10));
  ASSERT_FALSE(text.empty()) << exp.err();
  EXPECT_TRUE(is_regular(prom));
  EXPECT_FALSE(is_symlink(tmp));
  EXPECT_EQ(read_file(victim), "precious\n");
  EXPECT_EQ(read_file(victim_tmp), "precious\n");
  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(20)), 0) << exp.err();
  EXPECT_EQ(read_file(victim), "precious\n");
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
  run({"/bin/rm", "-rf", victim_dir});
}

// --- the lock file: planted hard links -------------------------------------

// Where fs.protected_hardlinks=0 anyone can plant a hard link to a file they
// cannot write at the lock's name; opening it O_RDWR as root and writing our
// PID would overwrite that file. A lock file with more than one link is
// refused, and the linked file is left byte for byte.
TEST_F(Fault, HardLinkAtTheLockNameIsRefused) {
  const std::string victim_dir = make_temp_dir("slableak-fault");
  const std::string victim = victim_dir + "/victim";
  write_file(victim, "precious\n");
  ASSERT_EQ(link(victim.c_str(), (dir_ + "/.slableak.prom.lock").c_str()), 0) << std::strerror(errno);
  try {
    TextfileWriter w(dir_, "slableak.prom");
    ADD_FAILURE() << "a hard-linked lock file was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_TRUE(contains(e.what(), "hard links")) << e.what();
    EXPECT_TRUE(contains(e.what(), "remove it")) << e.what();
  }
  EXPECT_EQ(read_file(victim), "precious\n");
  EXPECT_FALSE(contains(read_file(victim), std::to_string(getpid())));
  run({"/bin/rm", "-rf", victim_dir});
}

// --- the directory removed and created again ---------------------------------

// A tmpfs remounted or a config tool re-creating the directory: the writer
// never writes into the deleted directory; it says the directory is gone
// while it is, then follows the new one and takes the new one's lock (so a
// second exporter cannot start beside it).
TEST_F(Fault, RecreatedDirectoryIsFollowedWithItsLock) {
  const std::string d = dir_ + "/textfile";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  TextfileWriter w(d, "slableak.prom");
  std::string err;
  ASSERT_TRUE(w.write("slableak_test 1\n", &err)) << err;

  run({"/bin/rm", "-rf", d});
  EXPECT_FALSE(w.write("slableak_test 2\n", &err));
  EXPECT_TRUE(contains(err, "is gone")) << err;

  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  ASSERT_TRUE(w.write("slableak_test 3\n", &err)) << err;
  EXPECT_EQ(read_file(d + "/slableak.prom"), "slableak_test 3\n");
  EXPECT_FALSE(has_temp_file(d));
  // The new directory's lock is ours: a second writer is refused.
  try {
    TextfileWriter second(d, "slableak.prom");
    ADD_FAILURE() << "a second writer started on the re-created directory";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "another slableak exporter (pid " + std::to_string(getpid()) + ")")) << e.what();
  }
  EXPECT_TRUE(w.remove(&err)) << err;
  EXPECT_NE(access((d + "/slableak.prom").c_str(), F_OK), 0);
}

// If another exporter took the re-created directory first, this one does
// not write beside it: every write fails, naming the other one.
TEST_F(Fault, RecreatedDirectoryTakenByAnotherExporterIsLeftToIt) {
  const std::string d = dir_ + "/textfile";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  TextfileWriter w(d, "slableak.prom");
  run({"/bin/rm", "-rf", d});
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  TextfileWriter other(d, "slableak.prom");
  std::string err;
  ASSERT_TRUE(other.write("slableak_other 1\n", &err)) << err;
  EXPECT_FALSE(w.write("slableak_test 1\n", &err));
  EXPECT_TRUE(contains(err, "re-created")) << err;
  EXPECT_TRUE(contains(err, "another slableak exporter")) << err;
  EXPECT_EQ(read_file(d + "/slableak.prom"), "slableak_other 1\n");
}

// The same with a real exporter: it keeps writing after its directory was
// replaced, and /metrics never stopped counting the failed writes.
TEST_F(Fault, ExporterFollowsARecreatedDirectory) {
  REQUIRE_BPF();
  const std::string d = dir_ + "/textfile";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  Child exp({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", d});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  ASSERT_FALSE(wait_for_write(d + "/slableak.prom", 0, seconds(10)).empty()) << exp.err();
  run({"/bin/rm", "-rf", d});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: textfile not updated", seconds(10)).empty()) << exp.err();
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  const std::string text = wait_for_write(d + "/slableak.prom", 0, seconds(10));
  ASSERT_FALSE(text.empty()) << exp.err();
  EXPECT_GE(metric(text, "slableak_textfile_write_errors_total"), 1);
  EXPECT_TRUE(is_regular(d + "/.slableak.prom.lock"));
  const RunResult second = run_slableak({"export", "--once", "--interval", "1s", "--textfile-dir", d});
  EXPECT_EQ(second.status, 2) << second.err;
  EXPECT_TRUE(contains(second.err, "(pid " + std::to_string(exp.pid()) + ")")) << second.err;
  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(20)), 0) << exp.err();
  EXPECT_NE(access((d + "/slableak.prom").c_str(), F_OK), 0);
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// The new directory is there but this process cannot write it: what a
// unit with ProtectSystem=strict + ReadWritePaths= sees once the directory it
// bind-mounted was removed and created again (the deployment test shows it:
// EROFS). Here a read-only tmpfs at the name stands for that view. No later
// write can succeed, so the writer says the directory is lost.
TEST_F(Fault, RecreatedDirectoryThatCannotBeWrittenIsLost) {
  const std::string d = dir_ + "/textfile";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  TextfileWriter w(d, "slableak.prom");
  std::string err;
  ASSERT_TRUE(w.write("slableak_test 1\n", &err)) << err;
  run({"/bin/rm", "-rf", d});
  EXPECT_FALSE(w.write("slableak_test 2\n", &err));
  EXPECT_FALSE(w.directory_lost()) << "a missing directory may come back: " << err;
  read_only_directory_at(d);
  EXPECT_FALSE(w.write("slableak_test 3\n", &err));
  EXPECT_TRUE(contains(err, "Read-only file system")) << err;
  EXPECT_TRUE(w.directory_lost()) << err;
}

// The exporter on such a directory exits with status 4 (the unit restarts
// it; 2 would not be) after one line naming the directory, instead of
// failing every write until someone restarts it by hand.
TEST_F(Fault, ExporterExitsForARestartWhenItsNewDirectoryIsUnreachable) {
  REQUIRE_BPF();
  const std::string d = dir_ + "/textfile";
  ASSERT_EQ(mkdir(d.c_str(), 0755), 0);
  Child exp({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", d});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  ASSERT_FALSE(wait_for_write(d + "/slableak.prom", 0, seconds(10)).empty()) << exp.err();
  run({"/bin/rm", "-rf", d});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: textfile not updated", seconds(10)).empty()) << exp.err();
  read_only_directory_at(d);
  EXPECT_EQ(exp.wait_exit(seconds(20)), 4) << exp.err();
  EXPECT_EQ(count_of(exp.err(), "was re-created"), 1u) << exp.err();
  EXPECT_TRUE(contains(exp.err(), "exiting (status 4) so that a restart writes into the new directory")) << exp.err();
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// --- signals and stops --------------------------------------------------------

// SIGHUP: no configuration to reload; it stops cleanly like SIGTERM (exit 0,
// the file removed), not exit 129 with a stale file.
TEST_F(Fault, SighupStopsCleanly) {
  REQUIRE_BPF();
  Child exp({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", dir_});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  ASSERT_FALSE(wait_for_write(dir_ + "/slableak.prom", 0, seconds(10)).empty()) << exp.err();
  exp.signal(SIGHUP);
  EXPECT_EQ(exp.wait_exit(seconds(20)), 0) << exp.err();
  EXPECT_NE(access((dir_ + "/slableak.prom").c_str(), F_OK), 0) << "slableak.prom left behind after SIGHUP";
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// export --once stopped before its one write: a clean stop, exit 0, and no
// file (nothing was collected to write), as docs/cli.md and the man page say.
TEST_F(Fault, OnceStoppedBeforeItsWriteExitsZeroWithoutAFile) {
  REQUIRE_BPF();
  Child exp({slableak_bin(), "export", "--once", "--interval", "60s", "--textfile-dir", dir_});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(20)), 0) << exp.err();
  EXPECT_NE(access((dir_ + "/slableak.prom").c_str(), F_OK), 0) << "a file from a stopped --once";
  EXPECT_FALSE(has_temp_file(dir_));
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// A process in a private mount namespace (unshare execs slableak itself, so
// the PID is slableak's), and mounts made inside that namespace only.
std::vector<std::string> in_private_mounts(std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"/usr/bin/unshare", "--mount", "--propagation", "private"});
  return argv;
}
void mount_in(pid_t pid, const std::vector<std::string>& mount_argv) {
  std::vector<std::string> argv{"/usr/bin/nsenter", "-t", std::to_string(pid), "-m"};
  argv.insert(argv.end(), mount_argv.begin(), mount_argv.end());
  const RunResult r = run(argv);
  ASSERT_EQ(r.status, 0) << r.err;
}

// SIGTERM while the directory has turned read-only (here: its write bits
// taken away; the exporter runs as uid 0 but has dropped CAP_DAC_OVERRIDE):
// the file cannot be removed, so node_exporter keeps serving its numbers.
// The exporter says so and exits 1 instead of reporting a clean stop.
TEST_F(Fault, StopWithAReadOnlyDirectorySaysTheFileIsStale) {
  REQUIRE_BPF();
  Child exp({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", dir_});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  ASSERT_FALSE(wait_for_write(dir_ + "/slableak.prom", 0, seconds(10)).empty()) << exp.err();
  ASSERT_EQ(chmod(dir_.c_str(), 0555), 0);
  exp.signal(SIGTERM);
  const int status = exp.wait_exit(seconds(20));
  chmod(dir_.c_str(), 0755);
  EXPECT_EQ(status, 1) << exp.err();
  EXPECT_TRUE(contains(exp.err(), "stale metrics left behind: cannot remove " + dir_ + "/slableak.prom")) << exp.err();
  EXPECT_TRUE(contains(exp.err(), "Permission denied")) << exp.err();
  EXPECT_TRUE(is_regular(dir_ + "/slableak.prom"));
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// --- /proc/slabinfo going bad after start -----------------------------------

// Unreadable, garbage or empty: the exporter keeps exporting what the BPF
// side counts, leaves out the slabinfo comparison, counts the bad reads in
// slableak_slabinfo_read_errors_total and says why on stderr; it does not
// exit 3 leaving a stale file. When slabinfo is back, so are its series.
TEST_F(Fault, SlabinfoGoingBadAfterStartIsAnErrorMetric) {
  REQUIRE_BPF();
  const std::string garbage = dir_ + "/garbage", empty = dir_ + "/empty", unreadable = dir_ + "/unreadable";
  write_file(garbage, "\x01\x02 not slabinfo at all\nkmalloc-2k x y z\n");
  write_file(empty, "");
  const std::string textdir = dir_ + "/textfile";
  ASSERT_EQ(mkdir(textdir.c_str(), 0755), 0);
  const std::string prom = textdir + "/slableak.prom";
  Child exp(in_private_mounts({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", textdir}));
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  std::string text = wait_for_write(prom, 0, seconds(10));
  ASSERT_FALSE(text.empty()) << exp.err();
  EXPECT_EQ(metric(text, "slableak_slabinfo_read_errors_total"), 0);
  EXPECT_GE(metric(text, "slableak_cache_slabinfo_active_objects", "kmalloc-2k"), 0);

  struct Phase {
    std::string what, file, expect_err;
  };
  // A directory cannot be bind-mounted over a file; a FIFO would block:
  // /dev/null stands for "opens but reads nothing", a missing /proc entry for
  // "cannot be opened" (the whole /proc hidden under an empty tmpfs).
  double errors = 0;
  for (const Phase& p : {Phase{"garbage", garbage, "no cache lines"}, Phase{"empty", empty, "no cache lines"},
                         Phase{"unreadable", "", "cannot read /proc/slabinfo"}}) {
    SCOPED_TRACE(p.what);
    if (p.file.empty())
      mount_in(exp.pid(), {"/usr/bin/mount", "-t", "tmpfs", "none", "/proc"});
    else
      mount_in(exp.pid(), {"/usr/bin/mount", "--bind", p.file, "/proc/slabinfo"});
    ASSERT_FALSE(exp.wait_stderr_line("slableak: " + (p.file.empty() ? std::string("cannot read") : "/proc/slabinfo has"),
                                      seconds(10)).empty())
        << exp.err();
    EXPECT_TRUE(contains(exp.err(), p.expect_err)) << exp.err();
    // Still writing, now with the failure counted and the comparison gone.
    text = wait_for_write(prom, metric(text, "slableak_last_update_timestamp_seconds"), seconds(10));
    text = wait_for_write(prom, metric(text, "slableak_last_update_timestamp_seconds"), seconds(10));
    ASSERT_FALSE(text.empty()) << exp.err();
    EXPECT_GT(metric(text, "slableak_slabinfo_read_errors_total"), errors);
    errors = metric(text, "slableak_slabinfo_read_errors_total");
    EXPECT_EQ(metric(text, "slableak_cache_slabinfo_active_objects", "kmalloc-2k"), -1);
    EXPECT_GE(metric(text, "slableak_allocations_total", "kmalloc-2k"), 0);
    expect_promtool_clean(text);
    mount_in(exp.pid(), {"/usr/bin/umount", p.file.empty() ? "/proc" : "/proc/slabinfo"});
    ASSERT_FALSE(exp.wait_stderr_line("slableak: /proc/slabinfo is readable again", seconds(10)).empty()) << exp.err();
  }
  text = wait_for_write(prom, metric(text, "slableak_last_update_timestamp_seconds"), seconds(10));
  text = wait_for_write(prom, metric(text, "slableak_last_update_timestamp_seconds"), seconds(10));
  EXPECT_GE(metric(text, "slableak_cache_slabinfo_active_objects", "kmalloc-2k"), 0) << "slabinfo series not back";
  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(20)), 0) << exp.err();
  EXPECT_NE(access(prom.c_str(), F_OK), 0);
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// /dev/zero bind-mounted over /proc/slabinfo or /proc/kallsyms: an endless
// file. Reads are bounded: a one-line environment error (exit 3), not
// std::bad_alloc after eating the machine's memory.
// --max-tracked within its range but above a quarter of this host's memory
// (issue 18: 40M was accepted, 4 GiB of kernel memory): refused before
// anything is loaded, exit 2, one line. A 1 GiB MemTotal is bind-mounted over
// /proc/meminfo in a private mount namespace: 4M entries need ~436 MB.
TEST_F(Fault, MaxTrackedAboveAQuarterOfMemTotalIsRefused) {
  REQUIRE_BPF();
  const std::string meminfo = dir_ + "/meminfo";
  {
    std::ofstream f(meminfo);
    f << "MemTotal:        1048576 kB\nMemFree:          524288 kB\n";
  }
  const RunResult r = run({"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                           "mount --bind " + meminfo + " /proc/meminfo && exec " + slableak_bin() +
                               " check --max-tracked 4M"},
                          seconds(60));
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "--max-tracked 4000000 needs about")) << r.err;
  EXPECT_TRUE(contains(r.err, "over a quarter of this host's 1.0 GiB")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

TEST_F(Fault, EndlessProcFilesAreRefusedNotSwallowed) {
  for (const std::string file : {"/proc/slabinfo", "/proc/kallsyms"}) {
    SCOPED_TRACE(file);
    if (file == "/proc/kallsyms") REQUIRE_BPF();  // read by tracing commands only
    const std::string cmd = file == "/proc/slabinfo" ? "caches" : "check";
    const RunResult r = run({"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                             "mount --bind /dev/zero " + file + " && exec " + slableak_bin() + " " + cmd},
                            seconds(60));
    EXPECT_EQ(r.status, 3) << r.err;
    EXPECT_TRUE(contains(r.err, file + " is longer than")) << r.err;
    EXPECT_TRUE(contains(r.err, "mounted over it")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// --- kernel addresses -------------------------------------------------------------

// Metrics and the 0644 textfile are readable by every local user: export
// refuses --show-addresses before anything is attached or written.
TEST_F(Fault, ExportRefusesShowAddresses) {
  REQUIRE_BPF();
  const int programs = loaded_slableak_programs();
  const RunResult r = run_slableak({"export", "--show-addresses", "--once", "--interval", "1s", "--textfile-dir", dir_});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "--show-addresses is for the terminal")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(dir_entries(dir_), std::vector<std::string>{}) << "export wrote something";
  EXPECT_LE(loaded_slableak_programs(), programs);
}

// --- least privilege ----------------------------------------------------------

TEST_F(Fault, ExporterDropsCapabilitiesAndStillWrites) {
  REQUIRE_BPF();
  const TaskCaps ours = caps_of("/proc/self/status");
  const std::string prom = dir_ + "/slableak.prom";
  const int port = free_port();
  Child exp({slableak_bin(), "export", "--interval", "1s", "--textfile-dir", dir_, "--listen",
             "127.0.0.1:" + std::to_string(port)});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  const std::string said = exp.wait_stderr_line("slableak: capabilities dropped after attach", seconds(5));
  ASSERT_FALSE(said.empty()) << exp.err();

  // Every thread (main and HTTP) runs reduced. What may remain is only what
  // the checks proved necessary on this host: on a recent kernel as uid 0,
  // nothing.
  const uint64_t may_keep = (1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 21) | (1ull << 39);
  const std::string tasks = "/proc/" + std::to_string(exp.pid()) + "/task";
  const auto tids = dir_entries(tasks);
  EXPECT_GE(tids.size(), 2u) << "expected the main and the HTTP thread";
  for (const auto& tid : tids) {
    const TaskCaps c = caps_of(tasks + "/" + tid + "/status");
    EXPECT_NE(c.eff, ours.eff) << "thread " << tid;
    EXPECT_EQ(c.eff & ~may_keep, 0u) << "thread " << tid << " CapEff " << std::hex << c.eff;
    EXPECT_EQ(c.prm, c.eff) << "thread " << tid;
    EXPECT_EQ(c.bnd & ~may_keep, 0u) << "thread " << tid << " CapBnd " << std::hex << c.bnd;
    EXPECT_EQ(c.no_new_privs, 1) << "thread " << tid;
  }

  // And it still does its job: collects, writes, serves.
  std::string text = wait_for_write(prom, 0, seconds(10));
  ASSERT_FALSE(text.empty()) << exp.err();
  text = wait_for_write(prom, metric(text, "slableak_last_update_timestamp_seconds"), seconds(10));
  ASSERT_FALSE(text.empty()) << exp.err();
  EXPECT_EQ(metric(text, "slableak_textfile_write_errors_total"), 0);
  Client c(port);
  request(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.status(), 200);
  EXPECT_TRUE(complete_exposition(c.body()));
  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(20)), 0) << exp.err();
  EXPECT_NE(access(prom.c_str(), F_OK), 0) << "the file is removed on a clean stop, without capabilities too";
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

TEST_F(Fault, KeepCapabilitiesEscapeHatch) {
  REQUIRE_BPF();
  const TaskCaps ours = caps_of("/proc/self/status");
  Child exp({"/usr/bin/env", "SLABLEAK_KEEP_CAPABILITIES=1", slableak_bin(), "export", "--interval", "1s",
             "--textfile-dir", dir_});
  ASSERT_FALSE(exp.wait_stderr_line("slableak: exporting", seconds(20)).empty()) << exp.err();
  EXPECT_FALSE(exp.wait_stderr_line("slableak: keeping capabilities", seconds(5)).empty()) << exp.err();
  EXPECT_EQ(caps_of("/proc/" + std::to_string(exp.pid()) + "/status").eff, ours.eff);
  exp.signal(SIGTERM);
  EXPECT_EQ(exp.wait_exit(seconds(20)), 0) << exp.err();
  EXPECT_EQ(slableak_programs_after(seconds(5)), 0);
}

// drop_capabilities itself, in a forked child (dropping cannot be undone):
// a need that only CAP_DAC_READ_SEARCH meets keeps exactly that one; a need
// nothing meets keeps everything rather than break the process.
std::string in_child(const std::function<std::string()>& f) {
  int p[2];
  if (pipe(p) != 0) throw std::runtime_error("pipe");
  const pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    std::string out;
    try {
      out = f();
    } catch (const std::exception& e) {
      out = std::string("exception: ") + e.what();
    }
    if (::write(p[1], out.data(), out.size()) < 0) _exit(2);
    _exit(0);
  }
  close(p[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(p[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  return out;
}

TEST_F(Fault, DropKeepsOnlyWhatTheNeedsProve) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root's capabilities to drop";
  // Unreadable to uid 0 without CAP_DAC_READ_SEARCH or CAP_DAC_OVERRIDE.
  const std::string locked = dir_ + "/locked";
  write_file(locked, "secret\n");
  ASSERT_EQ(chmod(locked.c_str(), 0), 0);

  const std::string kept = in_child([&] {
    const CapabilityDrop d = drop_capabilities(
        {{"reading " + locked, [&](std::string* why) { return can_read_file(locked, why); }, file_read_helpers()},
         {"reading /proc/slabinfo", [](std::string* why) { return can_read_file("/proc/slabinfo", why); },
          file_read_helpers()}});
    const TaskCaps now = caps_of("/proc/self/status");
    std::ostringstream os;
    os << d.changed << " " << std::hex << now.eff << " " << now.prm << " " << now.bnd << " " << std::dec
       << now.no_new_privs << " " << can_read_file(locked, nullptr) << " | " << d.summary;
    return os.str();
  });
  EXPECT_EQ(kept.substr(0, kept.find(" |")), "1 4 4 4 1 1") << kept;  // bit 2: CAP_DAC_READ_SEARCH
  EXPECT_TRUE(contains(kept, "(kept: CAP_DAC_READ_SEARCH)")) << kept;

  const TaskCaps ours = caps_of("/proc/self/status");
  const std::string all = in_child([&] {
    const CapabilityDrop d = drop_capabilities(
        {{"reading a file that does not exist", [&](std::string* why) { return can_read_file(dir_ + "/none", why); },
          file_read_helpers()}});
    std::ostringstream os;
    os << d.changed << " " << std::hex << caps_of("/proc/self/status").eff << " | " << d.summary;
    return os.str();
  });
  std::ostringstream want;
  want << "0 " << std::hex << ours.eff;
  EXPECT_EQ(all.substr(0, all.find(" |")), want.str()) << all;
  EXPECT_TRUE(contains(all, "keeping all capabilities")) << all;
}

// --- /metrics under abuse (in-process server, no BPF) -----------------------

class Endpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpLimits l;
    l.head_timeout = milliseconds(1000);
    l.send_timeout = milliseconds(2000);
    l.max_connections = 4;
    server_ = std::make_unique<MetricsServer>("127.0.0.1:0", l);
    server_->set_body(body_);
    server_->start();
  }
  int port() const { return server_->port(); }
  // A well-behaved scrape: status and time taken.
  std::pair<int, milliseconds> scrape() {
    const auto t0 = Clock::now();
    Client c(port());
    request(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", milliseconds(10000));
    EXPECT_EQ(c.body(), c.status() == 200 ? body_ : c.body());
    return {c.status(), std::chrono::duration_cast<milliseconds>(Clock::now() - t0)};
  }
  const std::string body_ = "# TYPE slableak_up gauge\nslableak_up 1\n";
  std::unique_ptr<MetricsServer> server_;
};

TEST_F(Endpoint, OnlyGetMetrics) {
  struct Case {
    std::string raw;
    int status;
  };
  const std::vector<Case> cases = {
      {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200},
      {"GET /metrics?name[]=x HTTP/1.0\n\n", 200},
      {"GET http://127.0.0.1/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 200},
      {"GET / HTTP/1.1\r\n\r\n", 404},
      {"GET /metrics/../etc/passwd HTTP/1.1\r\n\r\n", 404},
      {"POST /metrics HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd", 405},
      {"DELETE /metrics HTTP/1.1\r\n\r\n", 405},
      {"GET /metrics HTTP/2.0\r\n\r\n", 505},
      {"GET /metrics\r\n\r\n", 400},
      {"GET  /metrics HTTP/1.1\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\nbad header\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\n folded: x\r\n\r\n", 400},
      {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15), 400},  // TLS hello
      {std::string("GET /metrics HTTP/1.1\r\nX: a\0b\r\n\r\n", 33), 400},
  };
  for (const auto& k : cases) {
    Client c(port());
    request(c, k.raw);
    EXPECT_EQ(c.status(), k.status) << k.raw << "\n->\n" << c.got();
    if (k.status == 405) EXPECT_TRUE(contains(c.got(), "\r\nAllow: GET\r\n")) << c.got();
    if (k.status != 200) EXPECT_FALSE(contains(c.got(), "slableak_up")) << c.got();
  }
  Client h(port());
  request(h, "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(h.status(), 405);
  EXPECT_EQ(h.body(), "") << "a reply to HEAD carries no body";
}

TEST_F(Endpoint, GarbageAndHugeHeadersAreBounded) {
  // Random bytes with no end of head, far beyond the limit: 431 or 414
  // after at most 8 KiB read, then the connection is closed on us.
  std::string junk(1 << 20, '\0');
  uint32_t x = 12345;
  for (auto& ch : junk) {
    x = x * 1103515245u + 12345u;
    ch = static_cast<char>(x >> 24);
  }
  for (const std::string& big : {std::string("GET /metrics HTTP/1.1\r\nX-Big: ") + std::string(1 << 20, 'a'),
                                 std::string("GET /") + std::string(1 << 20, 'b'), junk}) {
    Client c(port());
    c.send_all(big);  // may fail part-way: the server stops reading
    EXPECT_TRUE(c.read_to_close(milliseconds(5000)));
    EXPECT_TRUE(c.status() == 431 || c.status() == 414 || c.status() == 400) << c.got().substr(0, 100);
  }
  EXPECT_EQ(scrape().first, 200);
}

TEST_F(Endpoint, SlowAndSilentClientsDoNotBlockScrapes) {
  // A client trickling its head and one that says nothing.
  Client slow(port()), silent(port());
  slow.send_all("GET /metr");
  const auto t0 = Clock::now();
  // Scrapes go through at once, while both are still connected.
  for (int i = 0; i < 5; ++i) {
    const auto [status, took] = scrape();
    EXPECT_EQ(status, 200);
    EXPECT_LT(took.count(), 500) << "a scrape waited behind a slow client";
  }
  EXPECT_LT(std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count(), 900);
  // Each is cut off after the head timeout: the slow one with 408, the
  // silent one without a word.
  EXPECT_TRUE(slow.read_to_close(milliseconds(3000)));
  EXPECT_EQ(slow.status(), 408) << slow.got();
  EXPECT_TRUE(silent.read_to_close(milliseconds(3000)));
  EXPECT_EQ(silent.got(), "");
}

TEST_F(Endpoint, ManyIdleConnectionsAreBounded) {
  // Twice the connection limit, all idle: each newcomer replaces the oldest
  // idle one, and a scrape (request sent with the connection) is answered
  // at once.
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 8; ++i) idle.push_back(std::make_unique<Client>(port()));
  const auto [status, took] = scrape();
  EXPECT_EQ(status, 200);
  EXPECT_LT(took.count(), 500) << "idle clients locked a scrape out";
}

TEST_F(Endpoint, ClientThatNeverReadsIsAbandoned) {
  server_->set_body(std::string(32 << 20, '#') + "\n");  // far more than socket buffers hold
  Client lazy(port());
  lazy.send_all("GET /metrics HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(milliseconds(200));
  server_->set_body(body_);
  // Others are served while the lazy one's reply is stuck.
  EXPECT_EQ(scrape().first, 200);
  // Past the send timeout the server gives up on it: reading now ends
  // (closed or reset) well short of the whole body.
  std::this_thread::sleep_for(milliseconds(2500));
  EXPECT_TRUE(lazy.read_to_close(milliseconds(5000)));
  EXPECT_LT(lazy.got().size(), size_t{32} << 20);
}

TEST_F(Endpoint, StopsPromptlyWithClientsConnected) {
  Client a(port()), b(port());
  a.send_all("GET /met");
  const auto t0 = Clock::now();
  server_.reset();
  EXPECT_LT(std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count(), 500);
}

// Before the first collection there is nothing to serve: 503 with
// Retry-After, not 200 with an empty body (Prometheus would record a
// successful scrape with no series after every restart).
TEST(EndpointStart, Answers503UntilTheFirstCollection) {
  MetricsServer server("127.0.0.1:0");
  server.set_retry_after(15);
  server.start();
  Client before(server.port());
  request(before, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(before.status(), 503) << before.got();
  EXPECT_TRUE(contains(before.got(), "\r\nRetry-After: 15\r\n")) << before.got();
  server.set_body("slableak_up 1\n");
  Client after(server.port());
  request(after, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(after.status(), 200) << after.got();
  EXPECT_EQ(after.body(), "slableak_up 1\n");
}

// A scraper must never be reset or kept waiting because other clients are
// slow or hostile. The figures (docs/reliability.md): 1,000
// concurrent well-behaved GETs on loopback, half of them sending their
// request 50 ms after connecting, while a slowloris holds 1,000 more
// sockets open with partial heads and trickles a byte into each every
// 200 ms: every GET answered 200, none reset, none slower than 1 s
// (a dropped SYN alone costs a client 1 s).
TEST(EndpointLoad, ThousandScrapesBesideAThousandSlowlorisSockets) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 16384) {  // the test holds both ends of ~2,000 connections
    rl.rlim_cur = rl.rlim_max = std::max<rlim_t>(rl.rlim_max, 16384);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0) << std::strerror(errno);
  }
  MetricsServer server("127.0.0.1:0");  // the exporter's limits
  ASSERT_GE(server.max_connections(), 2048u);
  std::string body;
  for (int i = 0; body.size() < (64 << 10); ++i)
    body += "slableak_stack_outstanding_bytes{cache=\"kmalloc-2k\",stack_id=\"" + std::to_string(i) + "\"} 2048\n";
  server.set_body(body);
  server.start();
  const int port = server.port();
  auto connect_nb = [port]() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);  // EINPROGRESS
    return fd;
  };

  // The slowloris: 1,000 sockets, each a head that never ends.
  constexpr int kSlow = 1000, kGood = 1000;
  std::atomic<bool> stop{false};
  std::atomic<int> slow_connected{0};
  std::atomic<long> slow_reconnects{0};
  std::thread slowloris([&] {
    std::vector<int> fds(kSlow);
    for (auto& fd : fds) fd = connect_nb();
    std::vector<bool> started(kSlow, false);
    while (!stop) {
      int connected = 0;
      for (int i = 0; i < kSlow; ++i) {
        const char* piece = started[i] ? "a" : "GET /metrics HTTP/1.1\r\nX-Slow: ";
        const ssize_t n = send(fds[i], piece, std::strlen(piece), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
          started[i] = true;
          ++connected;
        } else if (n < 0 && errno != EAGAIN && errno != ENOTCONN) {
          close(fds[i]);  // cut off (head timeout): come back, as a slowloris does
          fds[i] = connect_nb();
          started[i] = false;
          ++slow_reconnects;
        }
      }
      slow_connected = connected;
      std::this_thread::sleep_for(milliseconds(200));
    }
    for (int fd : fds) close(fd);
  });
  for (int i = 0; i < 100 && slow_connected < kSlow; ++i) std::this_thread::sleep_for(milliseconds(50));
  ASSERT_EQ(slow_connected.load(), kSlow) << "the slowloris is not holding its sockets";

  struct Scrape {
    int fd = -1;
    Clock::time_point start, connected, done;
    bool sent = false, finished = false, reset = false;
    std::string got;
  };
  std::vector<Scrape> good(kGood);
  const auto t0 = Clock::now();
  for (auto& g : good) {
    g.start = Clock::now();
    g.fd = connect_nb();
  }
  const std::string req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  // The clients run on epoll so that the test's own loop stays cheap and
  // what is measured is the server.
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < kGood; ++i) {
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, good[i].fd, &ev);
  }
  auto send_request = [&](Scrape& g, int i) {
    if (send(g.fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) g.sent = true;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_MOD, g.fd, &ev);
  };
  std::vector<int> waiting;  // connected, sending 50 ms later
  int left = kGood;
  epoll_event events[256];
  while (left > 0 && Clock::now() - t0 < seconds(60)) {
    const int n = epoll_wait(ep, events, 256, 5);
    const auto now = Clock::now();
    for (int k = 0; k < n; ++k) {
      const int i = static_cast<int>(events[k].data.u32);
      auto& g = good[i];
      if (!g.sent && g.connected == Clock::time_point{} && (events[k].events & EPOLLOUT)) {
        g.connected = now;
        if (i % 2 == 1) {
          epoll_event ev{};
          ev.data.u32 = static_cast<uint32_t>(i);
          epoll_ctl(ep, EPOLL_CTL_MOD, g.fd, &ev);  // nothing until it sends
          waiting.push_back(i);
        } else {
          send_request(g, i);
        }
        continue;
      }
      if (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        char buf[65536];
        const ssize_t r = recv(g.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r > 0) {
          g.got.append(buf, static_cast<size_t>(r));
        } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
          g.reset = r < 0;
          g.finished = true;
          g.done = Clock::now();
          close(g.fd);
          --left;
        }
      }
    }
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (now - good[*it].connected >= milliseconds(50)) {
        send_request(good[*it], *it);
        it = waiting.erase(it);
      } else {
        ++it;
      }
    }
  }
  close(ep);
  stop = true;
  slowloris.join();

  int ok = 0, resets = 0, slow = 0, unfinished = 0;
  milliseconds worst{0};
  for (auto& g : good) {
    if (!g.finished) {
      ++unfinished;
      close(g.fd);
      continue;
    }
    if (g.reset) ++resets;
    const auto took = std::chrono::duration_cast<milliseconds>(g.done - g.start);
    worst = std::max(worst, took);
    if (took >= seconds(1)) ++slow;
    if (g.got.rfind("HTTP/1.1 200 ", 0) == 0 && g.got.size() >= body.size() &&
        g.got.compare(g.got.size() - body.size(), body.size(), body) == 0)
      ++ok;
  }
  const std::string figures = "answered 200: " + std::to_string(ok) + ", reset: " + std::to_string(resets) +
                              ", slower than 1 s: " + std::to_string(slow) + ", unfinished: " +
                              std::to_string(unfinished) + ", slowest: " + std::to_string(worst.count()) +
                              " ms, slowloris reconnects: " + std::to_string(slow_reconnects.load());
  std::cout << "[ figures  ] " << figures << std::endl;
  EXPECT_EQ(ok, kGood) << figures;
  EXPECT_EQ(resets, 0) << figures;
  // How many took over 1 s is printed above, not asserted: no timing
  // thresholds in tests (this suite also runs under ASan and on loaded
  // machines); docs/reliability.md records the figures of real runs.
}

// A port another process holds may be free again soon: the restartable exit,
// so the unit retries (docs/operations.md, "Exit status under the unit").
TEST(EndpointLimits, PortTakenIsARestartableErrorNamingTheFix) {
  MetricsServer first("127.0.0.1:0");
  try {
    MetricsServer second("127.0.0.1:" + std::to_string(first.port()));
    ADD_FAILURE() << "two servers bound one port";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::restart);
    EXPECT_TRUE(contains(e.what(), "pick a free port")) << e.what();
  }
}

}  // namespace
}  // namespace slableak::test
