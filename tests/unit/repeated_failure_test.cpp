// A failure repeated every interval: printed once, then summarised per
// period, and its end said once.
#include "repeated_failure.h"

#include <gtest/gtest.h>

namespace slableak {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TEST(RepeatedFailure, FirstInFullThenOneSummaryPerPeriodThenRecovery) {
  RepeatedFailure f(minutes(10));
  const auto t0 = RepeatedFailure::Clock::time_point{} + seconds(1000);
  EXPECT_EQ(f.failed("disk full", t0), "disk full");
  int printed = 0;
  std::string summary;
  // An hour of 15 s intervals after the first: six summaries, nothing else.
  for (int i = 1; i <= 240; ++i) {
    const std::string line = f.failed("disk full", t0 + seconds(15 * i));
    if (!line.empty()) {
      ++printed;
      summary = line;
    }
  }
  EXPECT_EQ(printed, 6);
  EXPECT_NE(summary.find("still failing, 40 more times in the last 10m"), std::string::npos) << summary;
  EXPECT_NE(summary.find("241 in a row"), std::string::npos) << summary;
  EXPECT_NE(summary.find(": disk full"), std::string::npos) << summary;
  const std::string back = f.succeeded(t0 + seconds(15 * 241));
  EXPECT_NE(back.find("recovered after 241 failures over 1h"), std::string::npos) << back;
  EXPECT_EQ(f.succeeded(t0 + seconds(15 * 242)), "");
  // A new streak starts over, in full.
  EXPECT_EQ(f.failed("disk full", t0 + seconds(15 * 243)), "disk full");
}

TEST(RepeatedFailure, AChangedMessageIsPrintedAtOnce) {
  RepeatedFailure f(minutes(10));
  const auto t0 = RepeatedFailure::Clock::time_point{} + seconds(5);
  EXPECT_EQ(f.failed("directory gone", t0), "directory gone");
  EXPECT_EQ(f.failed("directory gone", t0 + seconds(15)), "");
  EXPECT_EQ(f.failed("directory re-created, locked by another", t0 + seconds(30)),
            "directory re-created, locked by another");
  EXPECT_EQ(f.failed("directory re-created, locked by another", t0 + seconds(45)), "");
}

TEST(RepeatedFailure, SuccessWithoutFailureSaysNothing) {
  RepeatedFailure f(minutes(10));
  EXPECT_EQ(f.succeeded(RepeatedFailure::Clock::time_point{}), "");
}

}  // namespace
}  // namespace slableak
