// Pushes pprof profiles to Pyroscope's ingest API (export --push-pprof) from
// a thread of its own, so that a slow or dead endpoint never delays the
// textfile or /metrics: submit() only queues. Everything is bounded: the
// queue (a full queue drops its oldest profile), the attempts per profile,
// and the time of each attempt (connect, send, answer). A profile not
// delivered is counted (slableak_pprof_push_failures_total); the first
// failure of a streak is logged, then one summary line per 10 minutes while
// it lasts, and one line when pushes succeed again.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "ingest_request.h"

namespace slableak {

struct PushLimits {
  size_t queue = 2;                        // profiles waiting at most
  int attempts = 3;                        // per profile
  std::chrono::milliseconds backoff{1000};  // before the 2nd attempt, doubled after
  std::chrono::milliseconds timeout{10000};  // connect, send and answer, each
};

class PprofPusher {
 public:
  // @url's host must be numeric (the binary is static: no name service);
  // throws a usage Error otherwise.
  explicit PprofPusher(const HttpUrl& url, PushLimits limits = {});
  ~PprofPusher();  // stops within a second: a waiting attempt or backoff is cut short
  PprofPusher(const PprofPusher&) = delete;
  PprofPusher& operator=(const PprofPusher&) = delete;

  void start();
  // Never blocks on the network.
  void submit(IngestPush push);
  uint64_t delivered() const { return delivered_; }
  uint64_t failed() const { return failed_; }  // profiles given up or dropped
  // Blocks until the queue is empty and no attempt is under way (tests, --once).
  void drain();

 private:
  void run();
  // One attempt; "" on a 2xx answer, else why not.
  std::string attempt(const std::string& request);

  HttpUrl url_;
  PushLimits limits_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<IngestPush> queue_;
  bool busy_ = false;
  // Set under mu_ (so the condition waits cannot miss it), read without it
  // by the socket waits of an attempt.
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> delivered_{0}, failed_{0};
  std::thread thread_;
};

}  // namespace slableak
