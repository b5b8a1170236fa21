// What to say about a failure that repeats every interval (a textfile
// directory full or gone for hours): its first occurrence in full, then
// one summary line per period while it lasts, and one line when it ends.
// A journal that gets the same line every 15 s for a week buries whatever
// else the service said; the count is in slableak_textfile_write_errors_total.
// Pure: the caller passes the time and prints what it is given.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace slableak {

class RepeatedFailure {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RepeatedFailure(std::chrono::seconds period) : period_(period) {}

  // A failure with @message at @now: the line to print, or "" to stay quiet.
  // A message that differs from the last one printed is printed at once.
  std::string failed(const std::string& message, Clock::time_point now);
  // A success at @now: "" or a line saying how long it failed.
  std::string succeeded(Clock::time_point now);

 private:
  std::chrono::seconds period_;
  bool failing_ = false;
  std::string last_;             // the message printed last
  Clock::time_point since_{};    // first failure of the streak
  Clock::time_point printed_{};  // when a line was last printed
  uint64_t streak_ = 0;          // failures in the streak
  uint64_t quiet_ = 0;           // failures not printed since printed_
};

}  // namespace slableak
