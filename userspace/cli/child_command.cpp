#include "child_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "error.h"
#include "printable.h"

namespace slableak {
namespace {

bool executable_file(const std::string& f, int* err) {
  struct stat st {};
  if (stat(f.c_str(), &st) != 0) {
    *err = errno;
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    *err = EISDIR;
    return false;
  }
  // As root, access(X_OK) passes any file with one x bit; a file with none
  // is refused, as a shell refuses it.
  if (access(f.c_str(), X_OK) != 0 || (st.st_mode & 0111) == 0) {
    *err = errno ? errno : EACCES;
    if ((st.st_mode & 0111) == 0) *err = EACCES;
    return false;
  }
  return true;
}

}  // namespace

std::string find_command(const std::string& name, const std::string& path) {
  if (name.empty()) throw Error(Exit::not_found, "run: the command is an empty string");
  int err = ENOENT;
  if (name.find('/') != std::string::npos) {
    if (executable_file(name, &err)) return name;
    throw Error(err == ENOENT ? Exit::not_found : Exit::cannot_execute,
                "cannot run '" + printable(name) + "': " + std::strerror(err));
  }
  bool found_unusable = false;
  size_t from = 0;
  for (;;) {
    const size_t colon = path.find(':', from);
    std::string dir = path.substr(from, colon == std::string::npos ? std::string::npos : colon - from);
    if (dir.empty()) dir = ".";  // an empty PATH entry is the current directory
    const std::string f = dir + "/" + name;
    int e = 0;
    if (executable_file(f, &e)) return f;
    if (e != ENOENT && e != ENOTDIR) {
      found_unusable = true;
      err = e;
    }
    if (colon == std::string::npos) break;
    from = colon + 1;
  }
  if (found_unusable)
    throw Error(Exit::cannot_execute, "cannot run '" + printable(name) + "': " + std::strerror(err));
  throw Error(Exit::not_found, "command not found: '" + printable(name) + "' (not in PATH; give its path)");
}

int shell_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 1;
}

ChildCommand::ChildCommand(const std::string& file, const std::vector<std::string>& argv) {
  int gate[2], err[2];
  if (pipe2(gate, O_CLOEXEC) != 0) throw runtime_error(std::string("pipe: ") + std::strerror(errno));
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(gate[0]);
    close(gate[1]);
    throw runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // A file the kernel cannot run (ENOEXEC: a script without "#!") runs with
  // /bin/sh, as a shell and execvp run it: sh FILE ARGS...
  static const char kShell[] = "/bin/sh";
  std::vector<char*> sh_args{const_cast<char*>(kShell), const_cast<char*>(file.c_str())};
  for (size_t i = 1; i < argv.size(); ++i) sh_args.push_back(const_cast<char*>(argv[i].c_str()));
  sh_args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) {
    const int e = errno;
    for (int fd : {gate[0], gate[1], err[0], err[1]}) close(fd);
    throw runtime_error(std::string("fork: ") + std::strerror(e));
  }
  if (pid_ == 0) {
    // slableak ignores SIGPIPE and catches SIGINT/SIGTERM: the command gets
    // the defaults a shell would give it (exec resets caught ones only).
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    char go = 0;
    ssize_t n;
    do n = read(gate[0], &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) _exit(125);  // slableak went away before starting us
    execv(file.c_str(), args.data());
    if (errno == ENOEXEC) execv(kShell, sh_args.data());
    const int e = errno;
    ssize_t w = write(err[1], &e, sizeof e);
    (void)w;
    _exit(e == ENOENT ? 127 : 126);
  }
  close(gate[0]);
  close(err[1]);
  gate_ = gate[1];
  exec_error_ = err[0];
}

ChildCommand::~ChildCommand() {
  if (gate_ >= 0) close(gate_);
  if (exec_error_ >= 0) close(exec_error_);
  if (pid_ > 0 && !status_) {
    if (!started_) kill(pid_, SIGKILL);  // never ran: nothing of the user's to lose
    // A started command that still runs is left alone; reap what exited.
    int st = 0;
    if (!started_) waitpid(pid_, &st, 0);
    else waitpid(pid_, &st, WNOHANG);
  }
}

void ChildCommand::start() {
  const char go = 1;
  started_ = true;
  if (write(gate_, &go, 1) != 1) throw runtime_error(std::string("starting the command: ") + std::strerror(errno));
  close(gate_);
  gate_ = -1;
  int e = 0;
  ssize_t n;
  do n = read(exec_error_, &e, sizeof e);
  while (n < 0 && errno == EINTR);
  close(exec_error_);
  exec_error_ = -1;
  if (n == static_cast<ssize_t>(sizeof e)) {
    wait_for(std::chrono::seconds(5));
    throw Error(e == ENOENT ? Exit::not_found : Exit::cannot_execute,
                "cannot run the command: " + std::string(std::strerror(e)));
  }
}

std::optional<int> ChildCommand::poll() {
  if (status_ || pid_ <= 0) return status_;
  int st = 0;
  const pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) status_ = shell_status(st);
  return status_;
}

std::optional<int> ChildCommand::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!poll() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return status_;
}

void ChildCommand::signal(int sig) {
  if (pid_ > 0 && !status_) kill(pid_, sig);
}

}  // namespace slableak
