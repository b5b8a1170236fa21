#include "support.h"

#include <algorithm>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <cstring>
#include <set>

namespace slableak::test {

std::string slableak_bin() { return SLABLEAK_BIN; }

int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = s >= 0 && bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  if (s >= 0) close(s);
  if (!ok) throw std::runtime_error("free_port: cannot bind a loopback port");
  return ntohs(a.sin_port);
}

std::string make_temp_dir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + ".XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
  chmod(tmpl.c_str(), 0755);
  return tmpl;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
std::string holder_bin() { return HOLDER_BIN; }

bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

std::string bpf_unavailable_reason() {
  if (geteuid() != 0) return "not root: integration tests load BPF programs";
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) return "no /sys/kernel/btf/vmlinux";
  return "";
}

namespace {

// Copies of programs that a test runs as another user, in a directory
// everyone can enter: the checkout may sit under one only root can (a clone
// in /root, mode 0700), where exec as uid 65534 fails. Removed at exit.
class ReachableCopies {
 public:
  ~ReachableCopies() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string of(const std::string& path) {
    if (const auto it = copies_.find(path); it != copies_.end()) return it->second;
    if (dir_.empty()) dir_ = make_temp_dir("slableak-run-as");
    const std::string copy = dir_ + "/" + std::to_string(copies_.size()) + "-" +
                             std::filesystem::path(path).filename().string();
    std::filesystem::copy_file(path, copy);
    chmod(copy.c_str(), 0755);
    return copies_[path] = copy;
  }

 private:
  std::string dir_;
  std::map<std::string, std::string> copies_;
};

}  // namespace

Child::Child(const std::vector<std::string>& argv_in, int drop_to_uid, unsigned hide) {
  static ReachableCopies reachable;
  std::vector<std::string> argv = argv_in;
  if (drop_to_uid >= 0 && !argv.empty() && argv[0].find('/') != std::string::npos) argv[0] = reachable.of(argv[0]);
  int in[2], out[2], err[2], ready[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(ready, O_CLOEXEC))
    throw std::runtime_error("pipe");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    // Descriptor 3 for --ready-fd 3 (dup2 onto itself would keep O_CLOEXEC).
    if (ready[1] == 3 ? fcntl(3, F_SETFD, 0) != 0 : dup2(ready[1], 3) != 3) _exit(125);
    if (hide) {
      // Private mount namespace: what we hide here stays visible to the host.
      if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(120);
    }
    if (hide & kHideTracefs) {
      umount2("/sys/kernel/debug/tracing", MNT_DETACH);
      umount2("/sys/kernel/tracing", MNT_DETACH);
      if (access("/sys/kernel/tracing/events", F_OK) == 0) _exit(121);
    }
    if (hide & kHideBtf) {
      // An empty tmpfs over /sys/kernel/btf: libbpf finds no vmlinux BTF.
      if (mount("none", "/sys/kernel/btf", "tmpfs", 0, nullptr) != 0) _exit(123);
      if (access("/sys/kernel/btf/vmlinux", F_OK) == 0) _exit(124);
    }
    if (drop_to_uid >= 0 && (setgroups(0, nullptr) != 0 || setgid(drop_to_uid) != 0 || setuid(drop_to_uid) != 0 ||
                             chdir("/") != 0))
      _exit(122);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  close(ready[1]);
  readyfd_ = ready[0];
  in_ = in[1];
  outfd_ = out[0];
  errfd_ = err[0];
}

Child::~Child() {
  if (in_ >= 0) close(in_);
  if (readyfd_ >= 0) close(readyfd_);
  if (pid_ > 0 && status_ < 0) {
    kill(pid_, SIGTERM);
    if (wait_exit(std::chrono::seconds(10)) < 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  if (outfd_ >= 0) close(outfd_);
  if (errfd_ >= 0) close(errfd_);
}

void Child::write_line(const std::string& line) {
  const std::string l = line + "\n";
  if (in_ >= 0 && ::write(in_, l.data(), l.size()) != static_cast<ssize_t>(l.size())) {
  }
}

void Child::close_stdin() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

void Child::signal(int sig) { kill(pid_, sig); }

bool Child::pump(std::chrono::milliseconds timeout) {
  pollfd p[2] = {{outfd_, POLLIN, 0}, {errfd_, POLLIN, 0}};
  if (poll(p, 2, static_cast<int>(timeout.count())) <= 0) return false;
  char buf[65536];
  bool any = false;
  for (int i = 0; i < 2; ++i) {
    if (p[i].revents & (POLLIN | POLLHUP)) {
      ssize_t n = read(p[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? out_ : err_).append(buf, static_cast<size_t>(n));
        any = true;
      }
    }
  }
  return any;
}

std::string Child::take_line(std::string& buf, size_t& consumed, const std::string& prefix) {
  for (;;) {
    const size_t nl = buf.find('\n', consumed);
    if (nl == std::string::npos) return "";
    std::string line = buf.substr(consumed, nl - consumed);
    consumed = nl + 1;
    if (line.rfind(prefix, 0) == 0) return line;
  }
}

std::string Child::wait_line(std::string& buf, size_t& seen, const std::string& prefix,
                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::string l = take_line(buf, seen, prefix);
    if (!l.empty()) return l;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "";
    pump(std::min(left, std::chrono::milliseconds(200)));
  }
}

std::string Child::wait_stdout_line(const std::string& prefix, std::chrono::milliseconds timeout) {
  return wait_line(out_, out_seen_, prefix, timeout);
}

std::string Child::wait_stderr_line(const std::string& prefix, std::chrono::milliseconds timeout) {
  return wait_line(err_, err_seen_, prefix, timeout);
}

std::string Child::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string line;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "";
    pollfd p = {readyfd_, POLLIN, 0};
    pump(std::chrono::milliseconds(0));  // keep stdout/stderr drained meanwhile
    if (poll(&p, 1, static_cast<int>(std::min(left, std::chrono::milliseconds(200)).count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(readyfd_, buf, sizeof buf);
    if (n <= 0) return "";  // closed without a line: it exited or never got ready
    line.append(buf, static_cast<size_t>(n));
    if (line.find('\n') != std::string::npos) return line.substr(0, line.find('\n'));
  }
}

int Child::wait_exit(std::chrono::milliseconds timeout) {
  if (status_ >= 0) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      while (pump(std::chrono::milliseconds(50))) {
      }
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    pump(std::chrono::milliseconds(50));
  }
}

Holder::Holder(const std::string& vector, unsigned count)
    : child_({holder_bin(), vector, std::to_string(count)}) {
  const std::string ready = child_.wait_stdout_line("ready", std::chrono::seconds(60));
  if (ready.empty())
    throw std::runtime_error("holder " + vector + " did not get ready: " + child_.err());
}

void Holder::release() {
  child_.write_line("release");
  if (child_.wait_stdout_line("released", std::chrono::seconds(60)).empty())
    throw std::runtime_error("holder did not release: " + child_.err());
}

RunResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout, int drop_to_uid,
                      unsigned hide) {
  Child c(argv, drop_to_uid, hide);
  c.close_stdin();
  RunResult r;
  r.status = c.wait_exit(timeout);
  r.out = c.out();
  r.err = c.err();
  return r;
}

RunResult run_slableak(const std::vector<std::string>& args, std::chrono::milliseconds timeout, int drop_to_uid,
                       unsigned hide) {
  std::vector<std::string> argv{slableak_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, timeout, drop_to_uid, hide);
}

namespace {

// Program ids referenced by any open fd of any live process.
std::set<__u32> held_program_ids() {
  std::set<__u32> held;
  DIR* proc = opendir("/proc");
  if (!proc) return held;
  while (dirent* p = readdir(proc)) {
    if (p->d_name[0] < '0' || p->d_name[0] > '9') continue;
    const std::string fdinfo = std::string("/proc/") + p->d_name + "/fdinfo";
    DIR* d = opendir(fdinfo.c_str());
    if (!d) continue;
    while (dirent* f = readdir(d)) {
      if (f->d_name[0] == '.') continue;
      FILE* in = fopen((fdinfo + "/" + f->d_name).c_str(), "r");
      if (!in) continue;
      char line[256];
      while (fgets(line, sizeof line, in)) {
        unsigned id = 0;
        if (sscanf(line, "prog_id: %u", &id) == 1) held.insert(id);
      }
      fclose(in);
    }
    closedir(d);
  }
  closedir(proc);
  return held;
}

// A program is slableak's if it uses one of its object's own data maps:
// libbpf names them after the object ("slableak.rodata", "slableak.bss",
// ...), and every program reads its knobs from .rodata. No list of program
// names to keep in step with bpf/.
bool uses_slableak_maps(const bpf_prog_info& info, int prog_fd) {
  std::vector<__u32> maps(info.nr_map_ids);
  if (maps.empty()) return false;
  bpf_prog_info again{};
  again.nr_map_ids = static_cast<__u32>(maps.size());
  again.map_ids = reinterpret_cast<__u64>(maps.data());
  __u32 len = sizeof again;
  if (bpf_obj_get_info_by_fd(prog_fd, &again, &len) != 0) return false;
  for (__u32 map_id : maps) {
    const int mfd = bpf_map_get_fd_by_id(map_id);
    if (mfd < 0) continue;
    bpf_map_info m{};
    __u32 mlen = sizeof m;
    const bool ours = bpf_obj_get_info_by_fd(mfd, &m, &mlen) == 0 && std::string(m.name).rfind("slableak.", 0) == 0;
    close(mfd);
    if (ours) return true;
  }
  return false;
}

std::vector<__u32> our_program_ids() {
  std::vector<__u32> ids;
  __u32 id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && uses_slableak_maps(info, fd)) ids.push_back(id);
    close(fd);
  }
  return ids;
}

int orphan_slableak_programs() {
  const auto ids = our_program_ids();
  if (ids.empty()) return 0;
  const auto held = held_program_ids();
  int n = 0;
  for (__u32 id : ids)
    if (!held.count(id)) ++n;
  return n;
}

}  // namespace

bool kernel_has_kmem_cache_kfunc() {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return false;
  const bool has = btf__find_by_name_kind(vmlinux, "bpf_get_kmem_cache", BTF_KIND_FUNC) > 0;
  btf__free(vmlinux);
  return has;
}

bool has_function(const StackReport& s, const std::string& fn) {
  return std::any_of(s.frames.begin(), s.frames.end(),
                     [&](const std::string& f) { return f.rfind(fn + "+", 0) == 0; });
}

bool has_function(const nlohmann::json& stack, const std::string& fn) {
  for (const auto& f : stack.at("frames"))
    if (f.get<std::string>().rfind(fn + "+", 0) == 0) return true;
  return false;
}

Under under(const Snapshot& s, const std::string& cache, const std::string& fn) {
  Under u;
  for (const auto& st : s.stacks)
    if (st.cache == cache && has_function(st, fn)) {
      u.objects += st.objects;
      u.bytes += st.bytes;
      u.allocs += st.allocs;
    }
  return u;
}

int64_t objects_under(const nlohmann::json& report, const std::string& fn, const std::string& cache) {
  int64_t n = 0;
  for (const auto& s : report.at("stacks"))
    if ((cache.empty() || s.at("cache") == cache) && has_function(s, fn)) n += s.at("objects").get<int64_t>();
  return n;
}

int loaded_slableak_programs() { return static_cast<int>(our_program_ids().size()); }

}  // namespace slableak::test

namespace slableak::test {
int slableak_programs_after(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int n = orphan_slableak_programs();
  while (n > 0 && std::chrono::steady_clock::now() < deadline) {
    usleep(50 * 1000);
    n = orphan_slableak_programs();
  }
  return n;
}
}  // namespace slableak::test
