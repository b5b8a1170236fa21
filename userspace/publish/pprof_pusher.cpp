#include "pprof_pusher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <random>

#include "error.h"
#include "printable.h"
#include "repeated_failure.h"
#include "unique_fd.h"

namespace slableak {
namespace {

using Clock = std::chrono::steady_clock;

bool to_sockaddr(const HttpUrl& url, sockaddr_storage* ss, socklen_t* len) {
  *ss = {};
  const std::string host = url.host == "localhost" ? "127.0.0.1" : url.host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(url.port);
    *len = sizeof *v4;
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(url.port);
    *len = sizeof *v6;
    return true;
  }
  return false;
}

// Waits for @events on @fd until @deadline: false on timeout, or when @stop
// is set (checked every second, so the destructor waits at most that long).
bool wait_fd(int fd, short events, Clock::time_point deadline, const std::atomic<bool>& stop) {
  for (;;) {
    if (stop.load(std::memory_order_relaxed)) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return true;  // let the next call report the error
  }
}

std::string random_boundary() {
  std::random_device rd;
  static constexpr char kChars[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string b = "slableak-";
  for (int i = 0; i < 24; ++i) b += kChars[rd() % 36];
  return b;
}

}  // namespace

PprofPusher::PprofPusher(const HttpUrl& url, PushLimits limits) : url_(url), limits_(limits) {
  sockaddr_storage ss;
  socklen_t len;
  if (!to_sockaddr(url_, &ss, &len))
    throw usage_error("bad --push-pprof host '" + url_.host +
                      "': use a numeric address such as 127.0.0.1 (the static binary does no name lookups)");
}

PprofPusher::~PprofPusher() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PprofPusher::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void PprofPusher::submit(IngestPush push) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (queue_.size() >= limits_.queue) {
      queue_.pop_front();  // the oldest is the least useful
      ++failed_;
    }
    queue_.push_back(std::move(push));
  }
  cv_.notify_all();
}

void PprofPusher::drain() {
  std::unique_lock<std::mutex> g(mu_);
  cv_.wait(g, [this] { return stop_ || (queue_.empty() && !busy_); });
}

std::string PprofPusher::attempt(const std::string& request) {
  sockaddr_storage ss;
  socklen_t len;
  to_sockaddr(url_, &ss, &len);
  UniqueFd fd(socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return std::string("socket: ") + std::strerror(errno);
  const std::string where = url_.host + ":" + std::to_string(url_.port);
  auto deadline = Clock::now() + limits_.timeout;
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    if (errno != EINPROGRESS) return "connect to " + where + ": " + std::strerror(errno);
    if (!wait_fd(fd.get(), POLLOUT, deadline, stop_)) return "connect to " + where + ": timed out";
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) return "connect to " + where + ": " + std::strerror(err);
  }
  deadline = Clock::now() + limits_.timeout;
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return "send to " + where + ": " + std::strerror(errno);
    if (!wait_fd(fd.get(), POLLOUT, deadline, stop_)) return "send to " + where + ": timed out";
  }
  deadline = Clock::now() + limits_.timeout;
  std::string answer;
  char buf[512];
  while (answer.size() < 12) {
    const ssize_t n = recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      answer.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) break;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return "answer from " + where + ": " + std::strerror(errno);
    if (!wait_fd(fd.get(), POLLIN, deadline, stop_)) return "answer from " + where + ": timed out";
  }
  const int status = http_status(answer);
  if (status >= 200 && status < 300) return "";
  if (status == 0) return "no HTTP answer from " + where;
  // The status line is the server's text: it reaches the log escaped.
  const std::string line = answer.substr(0, answer.find('\r'));
  return where + " answered " + printable(line);
}

void PprofPusher::run() {
  RepeatedFailure failures(std::chrono::minutes(10));
  for (;;) {
    IngestPush push;
    {
      std::unique_lock<std::mutex> g(mu_);
      busy_ = false;
      cv_.notify_all();
      cv_.wait(g, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      push = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    std::string boundary = random_boundary();
    while (push.profile.find(boundary) != std::string::npos) boundary = random_boundary();
    const std::string request = ingest_request(url_, push, boundary);
    std::string err;
    auto backoff = limits_.backoff;
    for (int i = 0; i < limits_.attempts; ++i) {
      if (i > 0) {
        std::unique_lock<std::mutex> g(mu_);
        if (cv_.wait_for(g, backoff, [this] { return stop_.load(); })) return;
        backoff *= 2;
      }
      err = attempt(request);
      if (err.empty()) break;
    }
    const auto now = RepeatedFailure::Clock::now();
    if (err.empty()) {
      ++delivered_;
      if (const std::string line = failures.succeeded(now); !line.empty())
        std::cerr << "slableak: pprof push works again: " << line << std::endl;
    } else {
      ++failed_;
      if (const std::string line = failures.failed(err, now); !line.empty())
        std::cerr << "slableak: pprof push failed (profile dropped, exporting goes on): " << line << std::endl;
    }
  }
}

}  // namespace slableak
