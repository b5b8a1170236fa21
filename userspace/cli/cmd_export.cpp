// Long-running exporter: every interval, one collection rendered as
// Prometheus text, written atomically for node_exporter's textfile
// collector and optionally served on /metrics.
//
// Order at start, so that every problem with the outputs is reported before
// anything is attached, and nothing runs with more privilege than it needs:
//   1. textfile directory: opened, probed, locked (one exporter per dir);
//   2. --listen: bound (a port below 1024 may need CAP_NET_BIND_SERVICE);
//   3. Session: BPF programs loaded and attached (needs root);
//   4. capabilities dropped to what reading maps and files still needs
//      (privileges.h); SLABLEAK_KEEP_CAPABILITIES=1 skips this;
//   5. the HTTP thread started: it never held the dropped capabilities.
// With --capture-dir the capture directory is opened with the textfile (1)
// and the OOM watcher loaded with the session (3); see capture.h.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

#include <unistd.h>

#include "aggregation.h"

#include "capture.h"
#include "commands.h"
#include "error.h"
#include "live_session.h"
#include "metrics_server.h"
#include "pprof_profile.h"
#include "pprof_pusher.h"
#include "privileges.h"
#include "prometheus_text.h"
#include "repeated_failure.h"
#include "report_html.h"
#include "signals.h"
#include "textfile_writer.h"
#include "version.h"

namespace slableak {
namespace {

std::string reduce_privileges(const TextfileWriter* file, FlightRecorder* recorder) {
  const char* keep = std::getenv("SLABLEAK_KEEP_CAPABILITIES");
  if (keep && *keep && std::string(keep) != "0") return "keeping capabilities (SLABLEAK_KEEP_CAPABILITIES is set)";
  std::vector<CapabilityNeed> needs;
  needs.push_back({"reading /proc/slabinfo", [](std::string* why) { return can_read_file("/proc/slabinfo", why); },
                   file_read_helpers()});
  needs.push_back({"reading the BPF maps", bpf_syscall_allowed, bpf_syscall_helpers()});
  if (file)
    needs.push_back({"writing to " + file->dir(), [file](std::string* why) { return file->probe(why); },
                     directory_write_helpers()});
  if (recorder) {
    CaptureStore* store = &recorder->store();
    needs.push_back({"writing to " + store->dir(), [store](std::string* why) { return store->probe(why); },
                     directory_write_helpers()});
  }
  try {
    return drop_capabilities(needs).summary;
  } catch (const Error& e) {
    return std::string("capabilities not dropped: ") + e.what();
  }
}

// The live page at "/": the HTML report of the last collection, heaviest
// stacks first, reloading itself at the export interval.
HttpPage live_page(Snapshot s, const ExportConfig& eo) {
  sort_stacks(s.stacks, SortKey::bytes);
  const size_t caches = std::max<size_t>(1, s.caches.size());
  HtmlPage p = render_html(s, eo.top_stacks * caches, HtmlOptions{eo.interval.count()});
  return HttpPage{std::move(p.body), std::move(p.csp)};
}

// sample_type_config of Pyroscope's ingest API: units and how to merge
// each sample type of the profile.
std::string sample_type_config() {
  std::string j = "{";
  for (const auto& t : pprof_sample_types()) {
    if (j.size() > 1) j += ",";
    const std::string unit = std::string(t.unit) == "bytes" ? "bytes" : "objects";
    j += std::string("\"") + t.type + "\":{\"units\":\"" + unit + "\",\"aggregation\":\"" +
         (t.cumulative ? "sum" : "average") + "\",\"display-name\":\"" + t.type + "_" + t.unit + "\"}";
  }
  return j + "}";
}

// name= of the ingest API: the application and its labels.
std::string push_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || !host[0]) std::snprintf(host, sizeof host, "unknown");
  std::string h;
  for (const char* p = host; *p; ++p) h += (*p == ',' || *p == '}' || *p == '{' || *p == '=') ? '_' : *p;
  return "slableak{service_name=slableak,host=" + h + "}";
}

}  // namespace

int run_export(const RunConfig& c) {
  const auto& eo = c.exporter;
  const auto& so = c.trace;
  // Output problems are reported before anything is attached.
  std::unique_ptr<TextfileWriter> file;
  if (eo.textfile) file = std::make_unique<TextfileWriter>(eo.textfile_dir, "slableak.prom");
  std::unique_ptr<MetricsServer> server;
  if (!eo.listen.empty()) {
    server = std::make_unique<MetricsServer>(eo.listen);
    // Until the first collection /metrics answers 503 with this Retry-After.
    server->set_retry_after(static_cast<unsigned>(std::max(1.0, std::ceil(eo.interval.count()))));
  }

  std::unique_ptr<FlightRecorder> recorder;
  if (!eo.capture_dir.empty()) recorder = std::make_unique<FlightRecorder>(eo);
  // SIGUSR1 never kills the exporter: without --capture-dir it is said and ignored.
  install_capture_signal();
  std::unique_ptr<PprofPusher> pusher;
  if (!eo.push_pprof.empty()) pusher = std::make_unique<PprofPusher>(eo.push_url);
  const std::string pyroscope_name = pusher ? push_name() : "";
  const std::string type_config = pusher ? sample_type_config() : "";

  auto session_owner = open_live_session(so);
  Session& session = *session_owner;
  if (recorder) recorder->start_oom_watch();
  const std::string privileges = reduce_privileges(file.get(), recorder.get());
  if (server) {
    // Until the first collection the page says so, and reloads.
    Snapshot none;
    none.unix_time = static_cast<double>(std::time(nullptr));
    none.method = session.method();
    none.sample_every = so.sample_every;
    server->set_page(live_page(none, eo));
    server->start();
  }
  if (pusher) pusher->start();

  std::cerr << "slableak: exporting";
  for (const auto& name : so.caches) std::cerr << ' ' << name;
  std::cerr << " every " << eo.interval.count() << "s (cache method " << session.method() << ", sampling 1 in "
            << so.sample_every << ")";
  if (file) std::cerr << " to " << file->path();
  if (server) std::cerr << " and http://" << eo.listen << "/metrics (live page at /, profile at " << kPprofPath << ")";
  if (recorder) std::cerr << "; captures to " << eo.capture_dir << " (SIGUSR1 captures now)";
  if (pusher) std::cerr << "; pushing pprof to " << eo.push_pprof << " every " << eo.push_interval.count() << "s";
  std::cerr << "\nslableak: " << privileges << std::endl;
  announce_ready(c.ready_fd, session, so.caches);

  ExpositionInfo info;
  info.top_stacks = eo.top_stacks;
  info.version = SLABLEAK_VERSION;
  info.kernel = session.kernel_release();
  info.captures = recorder != nullptr;
  std::string slabinfo_error;  // the last one reported on stderr
  // A write failing every interval: one line, then a summary every 10 min.
  RepeatedFailure write_failures(std::chrono::minutes(10));
  info.push = pusher != nullptr;
  double last_push_unix = 0;  // until of the last profile queued
  for (;;) {
    // session.wait also hands new allocation sites to the stack cache. With
    // --capture-dir it waits in slices of 100 ms so that SIGUSR1 and the OOM
    // killer are answered at once, with a collection of their own.
    const auto interval = std::chrono::duration_cast<std::chrono::nanoseconds>(eo.interval);
    const auto deadline = std::chrono::steady_clock::now() + interval;
    bool more = true;
    if (!recorder) {
      more = session.wait(interval);
      if (take_capture_request())
        std::cerr << "slableak: SIGUSR1 ignored: no --capture-dir to write a capture to" << std::endl;
    }
    while (recorder) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds::zero()) break;
      more = session.wait(std::min<std::chrono::nanoseconds>(left, std::chrono::milliseconds(100)));
      if (!more) break;
      if (const auto p = recorder->poll()) recorder->write(session.collect(), *p, info);
    }
    if (!more) break;
    const Snapshot s = session.collect();
    if (recorder)
      if (const auto p = recorder->judge(s, session.elapsed_s())) recorder->write(s, *p, info);
    if (s.slabinfo_error != slabinfo_error) {
      std::cerr << "slableak: "
                << (s.slabinfo_error.empty() ? std::string("/proc/slabinfo is readable again")
                                             : s.slabinfo_error + "; exporting without the slabinfo comparison")
                << std::endl;
      slabinfo_error = s.slabinfo_error;
    }
    info.last_update_unix = s.unix_time;
    std::string profile;  // gzipped, made once for the endpoint and the push
    if (server || pusher) profile = gzip_compress(build_pprof_profile(s, 0));
    if (pusher) {
      // Queued, never sent from here: a dead endpoint does not delay the textfile.
      // The push interval is rounded up to whole collection intervals.
      const double from = last_push_unix > 0 ? last_push_unix : s.unix_time - s.elapsed_s;
      if (s.unix_time - from + 1e-3 >= eo.push_interval.count() || eo.once) {
        pusher->submit(IngestPush{pyroscope_name, static_cast<int64_t>(from), static_cast<int64_t>(s.unix_time),
                                  profile, type_config});
        last_push_unix = s.unix_time;
      }
      info.pushes = pusher->delivered();
      info.push_failures = pusher->failed();
    }
    if (recorder) {
      if (eo.once) recorder->drain();  // the one file written says what was captured
      recorder->count_into(&info);
    }
    std::string text = render_prometheus(s, info);
    bool written = true;
    if (file) {
      std::string err;
      const auto now = RepeatedFailure::Clock::now();
      if (!file->write(text, &err)) {
        written = false;
        ++info.write_errors;
        if (file->directory_lost()) {
          // Under a unit with ReadWritePaths= the new directory is read-only
          // in our mount namespace until systemd sets up a new one: exit
          // with the code the unit restarts (docs/operations.md).
          std::cerr << "slableak: " << err << "; exiting (status " << static_cast<int>(Exit::restart)
                    << ") so that a restart writes into the new directory" << std::endl;
          return static_cast<int>(Exit::restart);
        }
        const std::string line = write_failures.failed(err, now);
        if (!line.empty()) std::cerr << "slableak: textfile not updated, previous one kept: " << line << std::endl;
        // /metrics shows the failure at once; the file with the next write.
        if (server) text = render_prometheus(s, info);
      } else if (const std::string line = write_failures.succeeded(now); !line.empty()) {
        std::cerr << "slableak: textfile written again: " << line << std::endl;
      }
    }
    if (server) {
      server->set_page(live_page(s, eo));
      // Every held stack, not only the --top-stacks of the metrics: the
      // profile is where a fleet keeps stacks (docs/operations.md, "Fleet").
      server->set_profile(std::move(profile));
      server->set_body(std::move(text));
    }
    if (eo.once) {
      if (pusher) pusher->drain();  // bounded: attempts x timeouts
      return written ? 0 : static_cast<int>(Exit::runtime);
    }
  }
  // Stopped by a signal: stale numbers must not keep being scraped. If the
  // file cannot be removed (a read-only directory) node_exporter keeps
  // serving it: say so, and fail, so that the stop is not taken as clean.
  std::string err;
  if (file && !file->remove(&err)) {
    std::cerr << "slableak: stale metrics left behind: " << err
              << " (node_exporter keeps serving it until it is removed)" << std::endl;
    return static_cast<int>(Exit::runtime);
  }
  return 0;
}

}  // namespace slableak
