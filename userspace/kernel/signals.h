// SIGINT/SIGTERM/SIGHUP request a clean stop: loops check stop_requested() and the
// caller still prints or writes its last report.
#pragma once
#include <chrono>

namespace slableak {

void install_stop_handlers();
bool stop_requested();
int stop_signal();  // the signal that asked us to stop, 0 if none
// Sleeps up to @d; returns false as soon as a stop is requested.
bool sleep_unless_stopped(std::chrono::nanoseconds d);

// SIGUSR1 asks `export` for a capture now (--capture-dir). Installed by
// export only: elsewhere SIGUSR1 keeps its default action.
void install_capture_signal();
// True once per SIGUSR1 received since the last call (several signals
// before a call count as one).
bool take_capture_request();

}  // namespace slableak
