// Parsing and printing of durations, counts and byte sizes typed by users.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace slableak {

// "30s", "500ms", "5m", "1h30m", "2d"; a bare number is seconds. Throws a
// usage Error naming the accepted forms.
std::chrono::nanoseconds parse_duration(std::string_view text, std::string_view what);

// "1000", "64k", "1M" (powers of 1000 for counts: k=1e3, M=1e6, G=1e9).
uint64_t parse_count(std::string_view text, std::string_view what);

// Short human forms for reports: "850ms", "42s", "3m12s", "5h03m", "2d04h".
std::string format_duration(double seconds);
// "512 B", "2.0 KiB", "5.9 MiB".
std::string format_bytes(double bytes);

}  // namespace slableak
