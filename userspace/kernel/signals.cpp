#include "signals.h"

#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cerrno>

namespace slableak {
namespace {

volatile sig_atomic_t g_stop = 0;

void on_stop(int sig) { g_stop = sig; }

volatile sig_atomic_t g_capture = 0;

void on_capture(int) { g_capture = 1; }

}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR so we notice
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // No configuration to reload: a hang-up (the terminal closed, or
  // `kill -HUP`) stops cleanly like SIGTERM, last report included.
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void install_capture_signal() {
  struct sigaction sa {};
  sa.sa_handler = on_capture;
  sigemptyset(&sa.sa_mask);
  // SA_RESTART: a capture request must not fail a blocking write() with EINTR
  // (a stderr write to a full journald socket would set std::cerr's badbit and
  // lose every later log line). The exporter still answers within its 100 ms
  // wait slices: poll/epoll waits and nanosleep are never restarted.
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
}

bool take_capture_request() {
  if (!g_capture) return false;
  g_capture = 0;
  return true;
}

bool stop_requested() { return g_stop != 0; }
int stop_signal() { return g_stop; }

bool sleep_unless_stopped(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  const auto deadline = steady_clock::now() + d;
  while (!g_stop) {
    const auto left = deadline - steady_clock::now();
    if (left <= nanoseconds::zero()) return true;
    const auto step = std::min<nanoseconds>(left, milliseconds(100));
    timespec ts{static_cast<time_t>(step.count() / 1'000'000'000), static_cast<long>(step.count() % 1'000'000'000)};
    nanosleep(&ts, nullptr);
  }
  return false;
}

}  // namespace slableak
