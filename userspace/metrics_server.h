// A minimal HTTP/1.1 server for GET /metrics on the address the user gives.
// Hand-written because Debian's cpp-httplib ships only as a shared library
// linked to OpenSSL, which would break the single static binary; the job is
// small: one request per connection, bounded size and time, no keep-alive.
#pragma once
#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace slableak {

class MetricsServer {
 public:
  // @listen is "HOST:PORT" (IPv4 or [IPv6]); throws a usage Error if it
  // cannot bind.
  explicit MetricsServer(const std::string& listen);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void set_body(std::string body);
  uint16_t port() const { return port_; }

 private:
  void serve();
  void handle(int fd);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string body_;
  std::thread thread_;
};

// Parses "HOST:PORT"; pure, for tests. Returns false if malformed.
bool split_host_port(const std::string& s, std::string* host, uint16_t* port);

}  // namespace slableak
