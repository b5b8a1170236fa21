// slableak captures [DIR]: the flight recorder's captures, oldest first,
// from their manifests (capture.json). No BPF; needs only read access.
#include <iostream>

#include "capture_manifest.h"
#include "capture_store.h"
#include "commands.h"
#include "error.h"

namespace slableak {

int run_captures(const RunConfig& c) {
  const std::string& dir = c.captures.dir;
  std::vector<CaptureSummary> out;
  for (const auto& [name, bytes] : CaptureStore::list(dir)) {
    try {
      out.push_back(read_capture_manifest(CaptureStore::read(dir, name, "capture.json", size_t{1} << 20),
                                          dir + "/" + name + "/capture.json"));
    } catch (const Error& e) {
      CaptureSummary broken;
      broken.name = name;
      if (const auto n = parse_capture_name(name)) {
        broken.unix_time = n->unix_time;
        broken.trigger = n->trigger;
      }
      broken.reason = std::string("manifest unreadable: ") + e.what();
      out.push_back(std::move(broken));
    }
  }
  write_captures_table(std::cout, dir, out);
  std::cout.flush();
  return 0;
}

}  // namespace slableak
