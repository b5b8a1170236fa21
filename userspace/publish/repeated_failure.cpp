#include "repeated_failure.h"

#include "units.h"

namespace slableak {

std::string RepeatedFailure::failed(const std::string& message, Clock::time_point now) {
  if (!failing_) {
    failing_ = true;
    since_ = now;
    streak_ = 0;
  }
  ++streak_;
  if (streak_ == 1 || message != last_) {
    last_ = message;
    printed_ = now;
    quiet_ = 0;
    return message;
  }
  ++quiet_;
  if (now - printed_ < period_) return "";
  const double window = std::chrono::duration<double>(now - printed_).count();
  std::string line = "still failing, " + std::to_string(quiet_) + " more time" + (quiet_ == 1 ? "" : "s") +
                     " in the last " + format_duration(window) + " (" + std::to_string(streak_) +
                     " in a row since the first, " + format_duration(std::chrono::duration<double>(now - since_).count()) +
                     " ago): " + message;
  printed_ = now;
  quiet_ = 0;
  return line;
}

std::string RepeatedFailure::succeeded(Clock::time_point now) {
  if (!failing_) return "";
  failing_ = false;
  const std::string line = "recovered after " + std::to_string(streak_) + " failure" + (streak_ == 1 ? "" : "s") +
                           " over " + format_duration(std::chrono::duration<double>(now - since_).count());
  streak_ = quiet_ = 0;
  last_.clear();
  return line;
}

}  // namespace slableak
