// A minimal HTTP/1.1 server for GET /metrics (and the live page at "/") on
// the address the user gives.
// Hand-written because Debian's cpp-httplib ships only as a shared library
// linked to OpenSSL, which would break the single static binary; the job is
// small: one request per connection, no keep-alive, and every resource a
// client can make us hold is bounded (connections, bytes, time).
//
// The decision what to answer is a pure function of the bytes received
// (http_reply), fuzzed on its own (tests/fuzz/fuzz_http_request.cpp); the
// server around it only moves bytes and enforces limits.
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace slableak {

// Limits of one connection. A request head larger than max_head_bytes gets
// 431 (414 if the request line alone is); a client that has not sent a
// whole head within head_timeout gets 408 (or is dropped if it sent
// nothing); a response not taken within send_timeout is abandoned (reset).
// At most max_connections are open at once: at the limit, a new client
// replaces the one that has been sending its head the longest, so idle
// connections cannot lock scrapes out; if all are busy replying, new
// clients wait in the kernel's listen backlog.
struct HttpLimits {
  size_t max_head_bytes = 8192;
  std::chrono::milliseconds head_timeout{5000};
  std::chrono::milliseconds send_timeout{10000};
  size_t max_connections = 16;
};

// How the bytes of a request head stopped arriving.
enum class HttpInput {
  partial,  // more may come
  eof,      // the client closed its side
  timeout,  // head_timeout passed
};

struct HttpReply {
  bool need_more = true;  // no answer yet: keep reading
  int status = 0;         // 200, 400, 404, 405, 408, 414, 431, 505
  std::string bytes;      // the whole response: status line, headers, body
};

// The page served at "/": an HTML document and the Content-Security-Policy
// it was rendered with (report_html.h makes both).
struct HttpPage {
  std::string body;
  std::string csp;
};

// What to answer to @received, everything a client has sent on a connection
// so far, when @metrics is the exposition to serve. Pure.
// "GET /metrics[?query] HTTP/1.x" with a well-formed head gets 200 and
// @metrics; with a @page, "GET /[?query]" gets it (and HEAD its headers)
// with the page's CSP, nosniff and no-store. Anything else an error status
// and a one-line text body. Always "Connection: close".
HttpReply http_reply(std::string_view received, HttpInput input, std::string_view metrics,
                     size_t max_head_bytes = HttpLimits{}.max_head_bytes, const HttpPage* page = nullptr);

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
  void set_body(std::string body);
  // What "/" serves from now on; without one, "/" is 404 as any path.
  void set_page(HttpPage page);
  uint16_t port() const { return port_; }

 private:
  void serve();

  HttpLimits limits_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: the destructor wakes the serving thread
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::shared_ptr<const std::string> body_;
  std::shared_ptr<const HttpPage> page_;
  std::thread thread_;
};

// Parses "HOST:PORT"; pure, for tests. Returns false if malformed.
bool split_host_port(const std::string& s, std::string* host, uint16_t* port);

}  // namespace slableak
