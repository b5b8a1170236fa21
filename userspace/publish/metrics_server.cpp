#include "metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <unordered_map>

#include "error.h"

namespace slableak {
namespace {

// File descriptors kept free for everything else the process opens (BPF
// maps and programs, /proc files, the textfile).
constexpr size_t kReservedFds = 128;
// Connections accepted per wake-up of the serving loop, so that a flood of
// new ones cannot keep it from serving those it has.
constexpr size_t kAcceptBatch = 512;

// Raises the soft limit on open files toward @wanted (never above the hard
// limit); returns how many connections fit.
size_t fit_connections(size_t wanted) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return std::min<size_t>(wanted, 16);
  const rlim_t need = static_cast<rlim_t>(wanted + kReservedFds);
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? need : std::min(need, rl.rlim_max);
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur == RLIM_INFINITY) return wanted;
  const size_t room = rl.rlim_cur > kReservedFds + 16 ? static_cast<size_t>(rl.rlim_cur) - kReservedFds : 16;
  return std::min(wanted, room);
}

}  // namespace

MetricsServer::MetricsServer(const std::string& listen, HttpLimits limits) : limits_(limits) {
  std::string host;
  uint16_t port = 0;
  if (!split_host_port(listen, &host, &port))
    throw usage_error("bad --listen '" + listen + "': use HOST:PORT, e.g. 127.0.0.1:9435");
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (host == "localhost") host = "127.0.0.1";
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    throw usage_error("bad --listen host '" + host + "': use a numeric address such as 127.0.0.1");
  }
  limits_.max_connections = fit_connections(limits_.max_connections);
  listen_fd_.reset(socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listen_fd_) throw runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(listen_fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // The longest backlog the kernel allows (net.core.somaxconn): a burst of
  // scrapers waits there instead of having its SYNs dropped (a dropped SYN
  // costs the client a 1 s retransmit).
  if (bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(listen_fd_.get(), SOMAXCONN) != 0) {
    const int e = errno;
    listen_fd_.reset();
    const std::string why = "cannot listen on " + listen + ": " + std::strerror(e);
    // Taken now, or an address not up yet: both may be fine in a moment,
    // so the restartable exit. Anything else (a port below 1024 without the
    // capability...) needs a person.
    if (e == EADDRINUSE || e == EADDRNOTAVAIL)
      throw Error(Exit::restart, why + (e == EADDRINUSE ? " (pick a free port)" : " (is the address up?)"));
    throw usage_error(why + " (pick a free port)");
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&bound), &blen);
  port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  wake_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_fd_) {
    const int e = errno;
    listen_fd_.reset();
    throw runtime_error(std::string("eventfd: ") + std::strerror(e));
  }
}

MetricsServer::~MetricsServer() {
  stop_ = true;
  if (wake_fd_) {
    const uint64_t one = 1;
    if (::write(wake_fd_.get(), &one, sizeof one) < 0) {
      // The serving thread still sees stop_ within its poll timeout.
    }
  }
  if (thread_.joinable()) thread_.join();
  // listen_fd_ and wake_fd_ close with the members, after the thread is gone.
}

void MetricsServer::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { serve(); });
}

void MetricsServer::set_body(std::string body) {
  auto b = std::make_shared<const std::string>(std::move(body));
  std::lock_guard<std::mutex> g(mu_);
  body_ = std::move(b);
}

void MetricsServer::set_profile(std::string gzipped) {
  auto p = std::make_shared<const std::string>(std::move(gzipped));
  std::lock_guard<std::mutex> g(mu_);
  profile_ = std::move(p);
}

void MetricsServer::set_page(HttpPage page) {
  auto p = std::make_shared<const HttpPage>(std::move(page));
  std::lock_guard<std::mutex> g(mu_);
  page_ = std::move(p);
}

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  UniqueFd fd;
  std::string in;
  // The reply: its head, and a body that is a view of `text` (the metrics
  // exposition this connection answered with, shared with the others) or
  // of a static message.
  std::string head;
  std::string_view body;
  std::shared_ptr<const std::string> text;
  std::shared_ptr<const std::string> profile;  // or of the pprof profile
  std::shared_ptr<const HttpPage> page;  // or of the page it answered with
  size_t sent = 0;
  bool writing = false;
  Clock::time_point accepted, deadline;
};

void finish(Conn& c) {
  // Take what the client still sends (a pipelined request, a body) so that
  // close() does not answer it with a reset that could discard our reply.
  char sink[4096];
  for (int i = 0; i < 16 && recv(c.fd.get(), sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
  }
  c.fd.reset();
}

// Gives up on a client: reset at once, so the kernel does not keep trying
// to deliver what it would not read.
void abandon(Conn& c) {
  const linger now{1, 0};
  setsockopt(c.fd.get(), SOL_SOCKET, SO_LINGER, &now, sizeof now);
  c.fd.reset();
}

}  // namespace

void MetricsServer::serve() {
  // epoll, not poll: a thousand slow or idle connections must not cost
  // anything on the iterations that serve the others.
  const UniqueFd epoll_fd(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd) return;
  const int ep = epoll_fd.get();
  auto watch = [ep](int op, int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    epoll_ctl(ep, op, fd, &ev);
  };
  watch(EPOLL_CTL_ADD, wake_fd_.get(), EPOLLIN);
  watch(EPOLL_CTL_ADD, listen_fd_.get(), EPOLLIN);
  bool listening = true;

  std::unordered_map<int, Conn> conns;
  size_t idle = 0;  // connections still receiving their head (eviction candidates)

  // One step of a connection: read what is there (never more than the head
  // limit plus one byte), decide once the head is whole or the time is up,
  // then write what the socket takes. Closes the connection when done.
  auto step = [&](Conn& c, bool ready) {
    const auto t = Clock::now();
    if (!c.writing) {
      HttpInput input = HttpInput::partial;
      if (ready) {
        char buf[4096];
        while (c.in.size() <= limits_.max_head_bytes) {
          const size_t want = std::min(sizeof buf, limits_.max_head_bytes + 1 - c.in.size());
          const ssize_t n = recv(c.fd.get(), buf, want, MSG_DONTWAIT);
          if (n > 0) {
            c.in.append(buf, static_cast<size_t>(n));
            continue;
          }
          if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) input = HttpInput::eof;
          break;
        }
      }
      if (input == HttpInput::partial && t >= c.deadline) input = HttpInput::timeout;
      std::shared_ptr<const std::string> text, profile;
      std::shared_ptr<const HttpPage> page;
      {
        std::lock_guard<std::mutex> g(mu_);
        text = body_;
        profile = profile_;
        page = page_;
      }
      const std::optional<std::string_view> metrics =
          text ? std::optional<std::string_view>(*text) : std::nullopt;
      const std::optional<std::string_view> pprof =
          profile ? std::optional<std::string_view>(*profile) : std::nullopt;
      HttpReply r = http_reply(c.in, input, metrics, limits_.max_head_bytes, retry_after_s_, page.get(), pprof);
      if (r.need_more) return;
      --idle;
      if (r.head.empty()) return finish(c);
      c.head = std::move(r.head);
      c.body = r.body;
      c.text = std::move(text);  // keep the viewed body alive
      c.profile = std::move(profile);
      c.page = std::move(page);
      std::string().swap(c.in);
      c.writing = true;
      c.deadline = t + limits_.send_timeout;
    }
    const size_t total = c.head.size() + c.body.size();
    while (c.sent < total) {
      iovec iov[2];
      int n_iov = 0;
      if (c.sent < c.head.size()) iov[n_iov++] = {const_cast<char*>(c.head.data()) + c.sent, c.head.size() - c.sent};
      const size_t body_off = c.sent > c.head.size() ? c.sent - c.head.size() : 0;
      if (body_off < c.body.size())
        iov[n_iov++] = {const_cast<char*>(c.body.data()) + body_off, c.body.size() - body_off};
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<size_t>(n_iov);
      const ssize_t n = sendmsg(c.fd.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
      return abandon(c);  // the peer is gone
    }
    if (c.sent >= total) return finish(c);
    if (Clock::now() >= c.deadline) return abandon(c);
    watch(EPOLL_CTL_MOD, c.fd.get(), EPOLLOUT);  // the rest when the socket takes it
  };

  // Accepts what is waiting, up to one batch. At the connection limit a new
  // client still gets in if some client has not finished sending its head:
  // the one connected longest makes room (idle connections cannot lock
  // scrapes out). If every slot is busy sending a reply, new clients wait in
  // the listen backlog.
  auto accept_batch = [&] {
    for (size_t round = 0; round < kAcceptBatch; ++round) {
      auto evict = conns.end();
      if (conns.size() >= limits_.max_connections) {
        for (auto it = conns.begin(); it != conns.end(); ++it)
          if (!it->second.writing && (evict == conns.end() || it->second.accepted < evict->second.accepted))
            evict = it;
        if (evict == conns.end()) return;
      }
      UniqueFd accepted(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
      if (!accepted) return;
      const int fd = accepted.get();
      if (evict != conns.end()) {
        abandon(evict->second);
        conns.erase(evict);
        --idle;
      }
      Conn c;
      c.fd = std::move(accepted);
      c.accepted = Clock::now();
      c.deadline = c.accepted + limits_.head_timeout;
      ++idle;
      // A scraper sends its request with the connection: answer it now,
      // before a later arrival could make it the oldest idle one.
      step(c, true);
      if (!c.fd) continue;
      if (!c.writing) watch(EPOLL_CTL_ADD, fd, EPOLLIN);
      else watch(EPOLL_CTL_ADD, fd, EPOLLOUT);
      conns.emplace(fd, std::move(c));
    }
  };

  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  // Deadlines are checked on a sweep at most every kSweep: a timeout fires
  // up to that much late, and the sweep's cost does not grow with the rate
  // of events.
  constexpr auto kSweep = std::chrono::milliseconds(50);
  auto last_sweep = Clock::now();
  while (!stop_) {
    const int timeout = conns.empty() ? 1000 : static_cast<int>(kSweep.count());
    const int n = epoll_wait(ep, events, kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (stop_) break;
    bool incoming = false;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_.get()) continue;
      if (fd == listen_fd_.get()) {
        incoming = true;
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      step(it->second, true);
      if (!it->second.fd) conns.erase(it);  // close() also removed it from epoll
    }
    const auto t = Clock::now();
    if (t - last_sweep >= kSweep) {
      last_sweep = t;
      for (auto it = conns.begin(); it != conns.end();) {
        if (t >= it->second.deadline) step(it->second, false);
        it = !it->second.fd ? conns.erase(it) : std::next(it);
      }
    }
    if (incoming) accept_batch();
    // Stop watching the listening socket while it could not take anyone
    // (every slot busy replying), so that level-triggered epoll does not
    // spin on it; the kernel's backlog holds newcomers meanwhile.
    const bool want = conns.size() < limits_.max_connections || idle > 0;
    if (want != listening) {
      watch(want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, listen_fd_.get(), EPOLLIN);
      listening = want;
    }
  }
  // The connections' descriptors close with conns, the epoll one after them.
}

}  // namespace slableak
