#include "units.h"

#include <gtest/gtest.h>

#include <chrono>

#include "error.h"

using namespace slableak;
using namespace std::chrono_literals;

namespace {

// Runs @f and returns the exit code of the slableak::Error it throws.
template <typename F>
Exit error_code_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no slableak::Error thrown";
  return Exit::ok;
}

}  // namespace

TEST(ParseDuration, AcceptsDocumentedForms) {
  EXPECT_EQ(parse_duration("30s", "--interval"), std::chrono::nanoseconds(30s));
  EXPECT_EQ(parse_duration("500ms", "--interval"), std::chrono::nanoseconds(500ms));
  EXPECT_EQ(parse_duration("5m", "--interval"), std::chrono::nanoseconds(300s));
  EXPECT_EQ(parse_duration("1h30m", "--interval"), std::chrono::nanoseconds(5400s));
  EXPECT_EQ(parse_duration("2d", "--interval"), std::chrono::nanoseconds(172800s));
  EXPECT_EQ(parse_duration("45", "--interval"), std::chrono::nanoseconds(45s));  // bare number: seconds
  EXPECT_EQ(parse_duration("1.5s", "--interval"), std::chrono::nanoseconds(1500ms));
}

TEST(ParseDuration, RejectsBadTextWithUsageError) {
  for (const char* bad : {"", "abc", "5x", "0", "0s", "-5s", "1h30", "s", "366d", "1.5.5s"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(error_code_of([&] { parse_duration(bad, "--duration"); }), Exit::usage);
  }
}

TEST(ParseDuration, MessageNamesWhatAndForms) {
  try {
    parse_duration("10x", "--duration");
    FAIL() << "no throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("--duration"), std::string::npos) << msg;
    EXPECT_NE(msg.find("10x"), std::string::npos) << msg;
    EXPECT_NE(msg.find("500ms"), std::string::npos) << msg;
  }
}

TEST(ParseCount, PowersOfThousand) {
  EXPECT_EQ(parse_count("1000", "--max"), 1000u);
  EXPECT_EQ(parse_count("64k", "--max"), 64000u);
  EXPECT_EQ(parse_count("64K", "--max"), 64000u);
  EXPECT_EQ(parse_count("1M", "--max"), 1000000u);
  EXPECT_EQ(parse_count("2G", "--max"), 2000000000u);
  EXPECT_EQ(parse_count("0", "--max"), 0u);
}

TEST(ParseCount, RejectsBadText) {
  for (const char* bad : {"", "k", "1.5M", "-1", "1m", "12 k", "18446744073709552k", "99999999999999999999999"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(error_code_of([&] { parse_count(bad, "--max"); }), Exit::usage);
  }
}

TEST(FormatDuration, ShortForms) {
  EXPECT_EQ(format_duration(0.85), "850ms");
  EXPECT_EQ(format_duration(42), "42s");
  EXPECT_EQ(format_duration(42.9), "42s");
  EXPECT_EQ(format_duration(60), "1m00s");
  EXPECT_EQ(format_duration(192), "3m12s");
  EXPECT_EQ(format_duration(5 * 3600 + 3 * 60 + 59), "5h03m");
  EXPECT_EQ(format_duration(2 * 86400 + 4 * 3600 + 120), "2d04h");
  EXPECT_EQ(format_duration(-1), "-");
}

TEST(FormatBytes, BinaryUnits) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(2048), "2.0 KiB");
  EXPECT_EQ(format_bytes(5.9 * 1024 * 1024), "5.9 MiB");
  EXPECT_EQ(format_bytes(3.0 * 1024 * 1024 * 1024), "3.0 GiB");
  EXPECT_EQ(format_bytes(-2048), "-2.0 KiB");
}

// Past the limit, the message says the limit rather than "use a positive number".
TEST(Units, DurationAboveAYearNamesTheLimit) {
  EXPECT_NO_THROW(slableak::parse_duration("365d", "--duration"));
  try {
    slableak::parse_duration("365d1s", "--duration");
    ADD_FAILURE() << "accepted";
  } catch (const slableak::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--duration '365d1s': at most 365d"), std::string::npos) << e.what();
  }
}
