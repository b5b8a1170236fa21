#include "pprof_pusher.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

using namespace slableak;

namespace {

// A loopback listener that accepts and reads but never answers: the pusher's
// attempt then waits for an answer until its timeout.
struct SilentServer {
  int fd = -1;
  uint16_t port = 0;
  SilentServer() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("listener");
    port = ntohs(a.sin_port);
  }
  ~SilentServer() { close(fd); }
};

}  // namespace

// The exporter's SIGTERM path destroys the pusher: that must not wait for an
// attempt's timeout (10 s per step by default, here an hour) before the last
// textfile is written and the process exits.
TEST(PprofPusher, StoppingCutsAnAttemptThatWaitsForAnAnswer) {
  SilentServer server;
  PushLimits limits;
  limits.attempts = 1;
  limits.timeout = std::chrono::hours(1);
  auto pusher = std::make_unique<PprofPusher>(HttpUrl{"127.0.0.1", server.port, ""}, limits);
  pusher->start();
  pusher->submit(IngestPush{"slableak{service_name=slableak}", 1, 2, std::string(100, 'p'), "{}"});

  // Read the whole request: from then on the pusher waits for the answer.
  const int conn = accept(server.fd, nullptr, nullptr);
  ASSERT_GE(conn, 0);
  std::string got;
  char buf[4096];
  auto complete = [&got] {
    const size_t end = got.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    const size_t cl = got.find("Content-Length: ");
    return cl != std::string::npos && cl < end && got.size() >= end + 4 + std::stoul(got.substr(cl + 16));
  };
  while (!complete()) {
    const ssize_t n = read(conn, buf, sizeof buf);
    ASSERT_GT(n, 0) << "the pusher closed before sending its whole request: " << got;
    got.append(buf, static_cast<size_t>(n));
  }

  const auto t0 = std::chrono::steady_clock::now();
  pusher.reset();
  const auto took = std::chrono::steady_clock::now() - t0;
  close(conn);
  // Against an hour-long timeout: a margin that load cannot reach.
  EXPECT_LT(took, std::chrono::seconds(60));
}
