// One function per subcommand, each given the validated RunConfig; main()
// parses arguments and maps errors to exit codes, nothing else.
#pragma once
#include "run_config.h"

namespace slableak {

int run_export(const RunConfig& c);
int run_snapshot(const RunConfig& c);
int run_top(const RunConfig& c);
int run_caches(const RunConfig& c);
int run_check(const RunConfig& c);
int run_command(const RunConfig& c);  // slableak run -- COMMAND
int run_triage(const RunConfig& c);
int run_diff(const RunConfig& c);     // slableak diff BEFORE AFTER (no BPF)
int run_captures(const RunConfig& c); // slableak captures [DIR] (no BPF)

}  // namespace slableak
