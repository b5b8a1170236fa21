// Text a user typed, made safe to echo in a one-line message.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace slableak {

// Control and non-ASCII bytes escaped as \xNN, at most @max characters kept
// (then "..."): a name with a newline, a terminal escape or 100 KB of text
// cannot break the one-line error or the terminal.
std::string printable(std::string_view s, size_t max = 64);

}  // namespace slableak
