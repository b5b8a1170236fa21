// Long-running exporter: every interval, one collection rendered as
// Prometheus text, written atomically for node_exporter's textfile
// collector and optionally served on /metrics.
#include <iostream>
#include <memory>

#include "commands.h"
#include "error.h"
#include "metrics_server.h"
#include "prometheus_text.h"
#include "signals.h"
#include "textfile_writer.h"
#include "version.h"

namespace slableak {

int run_export(const SessionOptions& so, const ExportOptions& eo) {
  if (eo.no_textfile && eo.listen.empty())
    throw usage_error("nothing to export to: drop --no-textfile or add --listen 127.0.0.1:PORT");
  if (eo.top_stacks == 0) throw usage_error("--top-stacks must be at least 1");
  // Output problems are reported before anything is attached.
  std::unique_ptr<TextfileWriter> file;
  if (!eo.no_textfile) file = std::make_unique<TextfileWriter>(eo.textfile_dir, "slableak.prom");
  std::unique_ptr<MetricsServer> server;
  if (!eo.listen.empty()) server = std::make_unique<MetricsServer>(eo.listen);

  Session session(so);
  std::cerr << "slableak: exporting";
  for (const auto& c : so.caches) std::cerr << ' ' << c;
  std::cerr << " every " << eo.interval_s << "s (cache method " << session.method() << ", sampling 1 in "
            << so.sample_every << ")";
  if (file) std::cerr << " to " << file->path();
  if (server) std::cerr << " and http://" << eo.listen << "/metrics";
  std::cerr << std::endl;

  ExpositionInfo info;
  info.top_stacks = eo.top_stacks;
  info.version = SLABLEAK_VERSION;
  info.kernel = session.kernel_release();
  for (;;) {
    const bool more = sleep_unless_stopped(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(eo.interval_s)));
    if (!more) break;
    const Snapshot s = session.collect();
    info.last_update_unix = s.unix_time;
    std::string text = render_prometheus(s, info);
    if (file) {
      std::string err;
      if (!file->write(text, &err)) {
        ++info.write_errors;
        std::cerr << "slableak: textfile not updated, previous one kept: " << err << std::endl;
      }
    }
    if (server) server->set_body(std::move(text));
    if (eo.once) return 0;
  }
  // Stopped by a signal: stale numbers must not keep being scraped.
  if (file) file->remove();
  return 0;
}

}  // namespace slableak
