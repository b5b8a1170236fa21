// A new file in a directory someone else may control (top's `w` writes into
// the working directory, which may be a user's home or build tree while
// slableak runs as root). Nothing there is followed or replaced: the content
// goes to a temporary file created with O_CREAT|O_EXCL|O_NOFOLLOW, which is
// then given the first free name of STEM.EXT, STEM-2.EXT, ... with
// renameat2(RENAME_NOREPLACE) (or link(), where a filesystem lacks it). A
// symlink or file planted at either name stays as it was, its target
// untouched; a failed write leaves no temporary file behind.
#pragma once
#include <string>
#include <string_view>

namespace slableak {

// Writes @content to a new file in @dir; returns its name (without @dir).
// On failure returns "" with a one-line reason in @error.
std::string write_new_file(const std::string& dir, const std::string& stem, const std::string& ext,
                           std::string_view content, std::string* error);

}  // namespace slableak
