#include "metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "error.h"

namespace slableak {

bool split_host_port(const std::string& s, std::string* host, uint16_t* port) {
  std::string h, p;
  if (!s.empty() && s[0] == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    h = s.substr(0, colon);
    p = s.substr(colon + 1);
  }
  if (h.empty() || p.empty() || p.size() > 5) return false;
  unsigned long v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  if (v > 65535) return false;
  *host = h;
  *port = static_cast<uint16_t>(v);
  return true;
}

// ---------------------------------------------------------------------------
// The request decision: pure.

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 505: return "HTTP Version Not Supported";
  }
  return "Internal Server Error";
}

HttpReply respond(int status, std::string_view body, bool head_only = false, bool allow_get = false) {
  const bool ok = status == 200;
  HttpReply r;
  r.need_more = false;
  r.status = status;
  r.bytes = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\nContent-Type: " +
            (ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8") +
            "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (allow_get) r.bytes += "Allow: GET\r\n";
  r.bytes += "Connection: close\r\n\r\n";
  if (!head_only) r.bytes.append(body);
  return r;
}

// RFC 9110 token characters (methods, header names).
bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool all_tchar(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

// Visible ASCII only: no spaces, no controls, no bytes >= 0x80.
bool is_target_char(char c) { return c > 0x20 && c < 0x7f; }

// Header field values: visible characters, spaces, tabs and obs-text.
bool is_value_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || u >= 0x20 ? u != 0x7f : false;
}

// The live page: strict headers, since it shows names the kernel chose.
HttpReply respond_page(const HttpPage& page, bool head_only) {
  HttpReply r;
  r.need_more = false;
  r.status = 200;
  r.bytes = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
            std::to_string(page.body.size()) + "\r\nContent-Security-Policy: " + page.csp +
            "\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nCache-Control: no-store\r\n"
            "Connection: close\r\n\r\n";
  if (!head_only) r.bytes += page.body;
  return r;
}

}  // namespace

HttpReply http_reply(std::string_view in, HttpInput input, std::string_view metrics, size_t max_head,
                     const HttpPage* page) {
  // End of the head: an empty line, CRLF or (leniently) bare LF.
  const size_t crlf = in.find("\r\n\r\n"), lf = in.find("\n\n");
  size_t head_len = std::string_view::npos;  // head without its final empty line
  size_t total_len = std::string_view::npos;
  if (crlf != std::string_view::npos) {
    head_len = crlf;
    total_len = crlf + 4;
  }
  if (lf != std::string_view::npos && (total_len == std::string_view::npos || lf + 2 < total_len)) {
    head_len = lf;
    total_len = lf + 2;
  }
  if (total_len == std::string_view::npos || total_len > max_head) {
    if (in.size() > max_head || total_len != std::string_view::npos) {
      // A request line alone longer than the limit: the target is the culprit.
      const auto nl = in.substr(0, max_head).find('\n');
      return respond(nl == std::string_view::npos ? 414 : 431, "request head too large\n");
    }
    if (input == HttpInput::partial) return HttpReply{};
    if (in.empty()) return HttpReply{false, 0, {}};  // said nothing: just close
    return input == HttpInput::timeout ? respond(408, "request not received in time\n")
                                       : respond(400, "incomplete request\n");
  }
  const std::string_view head = in.substr(0, head_len);

  // Request line: METHOD SP TARGET SP HTTP/1.x
  size_t eol = head.find('\n');
  std::string_view line = head.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return respond(400, "bad request line\n");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  const bool head_only = method == "HEAD";
  if (method.size() > 32 || !all_tchar(method) || target.empty() || target[0] != '/' ||
      !std::all_of(target.begin(), target.end(), is_target_char))
    return respond(400, "bad request line\n", head_only);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    const bool http_like = version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' &&
                           version[5] <= '9' && version[6] == '.' && version[7] >= '0' && version[7] <= '9';
    return respond(http_like ? 505 : 400, http_like ? "only HTTP/1.0 and HTTP/1.1\n" : "bad request line\n",
                   head_only);
  }

  // Header fields: NAME ":" VALUE, no folding, no control characters.
  while (eol != std::string_view::npos) {
    const size_t start = eol + 1;
    eol = head.find('\n', start);
    std::string_view h = head.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
    if (!h.empty() && h.back() == '\r') h.remove_suffix(1);
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos || !all_tchar(h.substr(0, colon)) ||
        !std::all_of(h.begin() + static_cast<std::ptrdiff_t>(colon) + 1, h.end(), is_value_char))
      return respond(400, "bad header field\n", head_only);
  }

  const std::string_view path = target.substr(0, target.find('?'));
  if (page && path == "/") {
    if (method != "GET" && method != "HEAD") {
      HttpReply r = respond(405, "only GET / and GET /metrics\n", false);
      r.bytes.insert(r.bytes.find("Connection: close"), "Allow: GET, HEAD\r\n");
      return r;
    }
    return respond_page(*page, head_only);
  }
  if (path != "/metrics") return respond(404, page ? "only / and /metrics are served here\n" : "only /metrics is served here\n", head_only);
  if (method != "GET") return respond(405, "only GET /metrics\n", head_only, true);
  return respond(200, metrics);
}

// ---------------------------------------------------------------------------
// The server: moves bytes, enforces limits.

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
  listen_fd_ = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) throw runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(listen_fd_, 16) != 0) {
    const int e = errno;
    close(listen_fd_);
    listen_fd_ = -1;
    throw usage_error("cannot listen on " + listen + ": " + std::strerror(e) + " (pick a free port)");
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &blen);
  port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    const int e = errno;
    close(listen_fd_);
    listen_fd_ = -1;
    throw runtime_error(std::string("eventfd: ") + std::strerror(e));
  }
  body_ = std::make_shared<const std::string>();
}

MetricsServer::~MetricsServer() {
  stop_ = true;
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof one) < 0) {
      // The serving thread still sees stop_ within its poll timeout.
    }
  }
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void MetricsServer::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { serve(); });
}

void MetricsServer::set_body(std::string body) {
  auto b = std::make_shared<const std::string>(std::move(body));
  std::lock_guard<std::mutex> g(mu_);
  body_ = std::move(b);
}

void MetricsServer::set_page(HttpPage page) {
  auto p = std::make_shared<const HttpPage>(std::move(page));
  std::lock_guard<std::mutex> g(mu_);
  page_ = std::move(p);
}

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  std::string in, out;
  size_t sent = 0;
  bool writing = false;
  Clock::time_point accepted, deadline;
};

void finish(Conn& c) {
  // Take what the client still sends (a pipelined request, a body) so that
  // close() does not answer it with a reset that could discard our reply.
  char sink[4096];
  for (int i = 0; i < 16 && recv(c.fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
  }
  close(c.fd);
  c.fd = -1;
}

// Gives up on a client: reset at once, so the kernel does not keep trying
// to deliver what it would not read.
void abandon(Conn& c) {
  const linger now{1, 0};
  setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
  close(c.fd);
  c.fd = -1;
}

}  // namespace

void MetricsServer::serve() {
  std::vector<Conn> conns;
  std::vector<pollfd> pfds;

  // One step of a connection: read what is there (never more than the head
  // limit plus one byte), decide once the head is whole or the time is up,
  // then write what the socket takes. Closes the connection when done.
  auto step = [this](Conn& c, bool readable) {
    const auto t = Clock::now();
    if (!c.writing) {
      HttpInput input = HttpInput::partial;
      if (readable) {
        char buf[4096];
        while (c.in.size() <= limits_.max_head_bytes) {
          const size_t want = std::min(sizeof buf, limits_.max_head_bytes + 1 - c.in.size());
          const ssize_t n = recv(c.fd, buf, want, MSG_DONTWAIT);
          if (n > 0) {
            c.in.append(buf, static_cast<size_t>(n));
            continue;
          }
          if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) input = HttpInput::eof;
          break;
        }
      }
      if (input == HttpInput::partial && t >= c.deadline) input = HttpInput::timeout;
      std::shared_ptr<const std::string> body;
      std::shared_ptr<const HttpPage> page;
      {
        std::lock_guard<std::mutex> g(mu_);
        body = body_;
        page = page_;
      }
      HttpReply r = http_reply(c.in, input, *body, limits_.max_head_bytes, page.get());
      if (r.need_more) return;
      if (r.bytes.empty()) return finish(c);
      c.out = std::move(r.bytes);
      std::string().swap(c.in);
      c.writing = true;
      c.deadline = t + limits_.send_timeout;
    }
    while (c.sent < c.out.size()) {
      const ssize_t n = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
      return abandon(c);  // the peer is gone
    }
    if (c.sent >= c.out.size()) return finish(c);
    if (Clock::now() >= c.deadline) abandon(c);
  };

  while (!stop_) {
    const auto now = Clock::now();
    auto wait = std::chrono::milliseconds(1000);
    for (const auto& c : conns)
      wait = std::min(wait, std::max(std::chrono::milliseconds(0),
                                     std::chrono::duration_cast<std::chrono::milliseconds>(c.deadline - now) +
                                         std::chrono::milliseconds(1)));
    // At the connection limit a new client still gets in if some client has
    // not finished sending its head: the one connected longest makes room
    // (idle connections cannot lock scrapes out). If every slot is busy
    // sending a reply, new clients wait in the listen backlog.
    const bool accepting = conns.size() < limits_.max_connections ||
                           std::any_of(conns.begin(), conns.end(), [](const Conn& c) { return !c.writing; });
    pfds.clear();
    pfds.push_back({wake_fd_, POLLIN, 0});
    pfds.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});
    for (const auto& c : conns) pfds.push_back({c.fd, static_cast<short>(c.writing ? POLLOUT : POLLIN), 0});
    if (poll(pfds.data(), pfds.size(), static_cast<int>(wait.count())) < 0 && errno != EINTR) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (stop_) break;

    for (size_t i = 0; i < conns.size(); ++i)
      step(conns[i], (pfds[i + 2].revents & (POLLIN | POLLHUP | POLLERR)) != 0);
    conns.erase(std::remove_if(conns.begin(), conns.end(), [](const Conn& c) { return c.fd < 0; }), conns.end());

    if (pfds[1].revents & POLLIN) {
      // At most one round of the limit per wake-up: a flood of connections
      // cannot keep this loop from serving the ones it has.
      for (size_t round = 0; round < limits_.max_connections; ++round) {
        auto evict = conns.end();
        if (conns.size() >= limits_.max_connections) {
          for (auto it = conns.begin(); it != conns.end(); ++it)
            if (!it->writing && (evict == conns.end() || it->accepted < evict->accepted)) evict = it;
          if (evict == conns.end()) break;  // all busy replying: the backlog holds the rest
        }
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break;
        if (evict != conns.end()) {
          abandon(*evict);
          conns.erase(evict);
        }
        Conn c;
        c.fd = fd;
        c.accepted = Clock::now();
        c.deadline = c.accepted + limits_.head_timeout;
        // A scraper sends its request with the connection: answer it now,
        // before a later arrival could make it the oldest idle one.
        step(c, true);
        if (c.fd >= 0) conns.push_back(std::move(c));
      }
    }
  }
  for (auto& c : conns)
    if (c.fd >= 0) close(c.fd);
}

}  // namespace slableak
