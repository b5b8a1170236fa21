// A minimal HTTP/1.1 server for GET /metrics (the live page at "/", the
// pprof profile at /debug/pprof/slab) on
// the address the user gives.
// Hand-written because Debian's cpp-httplib ships only as a shared library
// linked to OpenSSL, which would break the single static binary; the job is
// small: one request per connection, no keep-alive, and every resource a
// client can make us hold is bounded (connections, bytes, time).
//
// The decision what to answer is a pure function of the bytes received
// (http_reply, userspace/http/http_request.h); the server around it only
// moves bytes and enforces limits.
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "http_request.h"
#include "unique_fd.h"

namespace slableak {

// Limits of one connection and of the server. A request head larger than
// max_head_bytes gets 431 (414 if the request line alone is); a client that
// has not sent a whole head within head_timeout gets 408 (or is dropped if
// it sent nothing); a response not taken within send_timeout is abandoned
// (reset).
//
// max_connections bounds what clients can make us hold: an fd and at most
// max_head_bytes each (4096 x 8 KiB = 32 MiB at worst, only while that many
// clients hold partial heads; the metrics text is shared, never copied per
// connection). It is sized so that a scraper is never turned away because
// other clients are slow or hostile: a thousand slowloris sockets leave
// room for a thousand scrapes (docs/reliability.md). Beyond it, a new client
// replaces the one that has been sending its head the longest; if all are
// busy replying, new clients wait in the listen backlog (SOMAXCONN). The
// server raises the soft RLIMIT_NOFILE toward the hard one to make room, and
// uses fewer connections if the hard limit is lower.
struct HttpLimits {
  size_t max_head_bytes = kMaxHttpHeadBytes;
  std::chrono::milliseconds head_timeout{5000};
  std::chrono::milliseconds send_timeout{10000};
  size_t max_connections = 4096;
};

class MetricsServer {
 public:
  // @listen is "HOST:PORT" (IPv4 or [IPv6]); binds and listens now (throws
  // a usage Error if it cannot), but serves only after start(): the
  // exporter binds before attaching and starts the serving thread only
  // after it dropped its capabilities, so that thread never had them.
  explicit MetricsServer(const std::string& listen, HttpLimits limits = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void start();
  // The exposition to serve from now on. Until the first call GET /metrics
  // answers 503 with Retry-After (set_retry_after, seconds).
  void set_body(std::string body);
  void set_retry_after(unsigned seconds) { retry_after_s_ = seconds; }
  // The gzipped pprof profile GET /debug/pprof/slab serves from now on
  // (503 until both it and the body are set).
  void set_profile(std::string gzipped);
  // What "/" serves from now on; without one, "/" is 404 as any path.
  void set_page(HttpPage page);
  uint16_t port() const { return port_; }
  // Connections served at most at once (max_connections, lowered to what
  // RLIMIT_NOFILE allows).
  size_t max_connections() const { return limits_.max_connections; }

 private:
  void serve();

  HttpLimits limits_;
  UniqueFd listen_fd_;
  UniqueFd wake_fd_;  // eventfd: the destructor wakes the serving thread
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<unsigned> retry_after_s_{1};
  std::mutex mu_;
  std::shared_ptr<const std::string> body_;  // null until the first set_body
  std::shared_ptr<const std::string> profile_;  // null until the first set_profile
  std::shared_ptr<const HttpPage> page_;
  std::thread thread_;
};

}  // namespace slableak
