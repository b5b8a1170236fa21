// Reading text files from /proc and /sys. Thin on purpose: the parsers
// that get the text are pure and tested on their own.
#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "kallsyms.h"

namespace slableak {

// Throws an environment Error naming the file and the reason.
std::string read_text_file(const std::string& path);
// The same, handing the text over in pieces (64 KiB) as it is read.
void read_file_chunks(const std::string& path, const std::function<void(std::string_view)>& consume);
// /proc/kallsyms parsed while it is read: the 5+ MiB of text are never
// held at once (see Kallsyms::Builder).
Kallsyms read_kallsyms(const std::string& path = "/proc/kallsyms");

}  // namespace slableak
