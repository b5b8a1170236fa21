// Reading whole text files from /proc and /sys. Thin on purpose: the parsers
// that get the text are pure and tested on their own.
#pragma once
#include <string>

namespace slableak {

// Throws an environment Error naming the file and the reason.
std::string read_text_file(const std::string& path);

}  // namespace slableak
