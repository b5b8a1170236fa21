// One function per subcommand; main() parses arguments and maps errors to
// exit codes, nothing else.
#pragma once
#include <cstddef>
#include <string>

#include "session.h"

namespace slableak {

struct ReportOptions {
  double duration_s = 30;
  double min_age_s = 0;
  size_t top = 20;
  std::string format = "table";
  std::string sort = "bytes";
  double interval_s = 2;
};

struct ExportOptions {
  double interval_s = 15;
  std::string textfile_dir = "/var/lib/prometheus/node-exporter";
  bool no_textfile = false;
  bool once = false;
  std::string listen;  // empty: no HTTP endpoint
  size_t top_stacks = 20;
};

int run_export(const SessionOptions& so, const ExportOptions& eo);
int run_snapshot(const SessionOptions& so, const ReportOptions& ro);
int run_top(const SessionOptions& so, const ReportOptions& ro);
int run_caches();
int run_check(const SessionOptions& so);

}  // namespace slableak
