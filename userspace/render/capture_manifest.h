// capture.json, the manifest of one capture (what triggered it, the victim,
// the heaviest stack, the files), and the table `slableak captures` prints.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "capture_plan.h"

namespace slableak {

inline constexpr int kCaptureManifestVersion = 1;

std::string render_capture_manifest(const CaptureSummary& c);
// Throws a runtime Error naming @what if @text is not a manifest we wrote.
CaptureSummary read_capture_manifest(const std::string& text, const std::string& what);

// One line per capture, oldest first: time (UTC), trigger, the heaviest
// stack's cache, top frame and bytes, the victim of an OOM capture (when
// the kernel marked it and how much later the report was taken), and the
// path of the capture's pprof profile.
// Captures whose manifest could not be read carry their reason in `reason`
// with an empty trigger summary.
void write_captures_table(std::ostream& os, const std::string& dir, const std::vector<CaptureSummary>& captures);

}  // namespace slableak
