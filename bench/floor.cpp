// Attaches the benchmark floor programs (bench/floor.bpf.c) until SIGINT or
// SIGTERM: `floor` on kmalloc and kfree (what any tracer that sees frees
// pays), `floor --alloc-only` on kmalloc alone (what bpftrace's count pays).
// Prints "slableak: tracing" once attached, as scripts/bench.sh waits for.
#include <bpf/libbpf.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "floor.skel.h"

namespace {
volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  const bool alloc_only = argc > 1 && std::strcmp(argv[1], "--alloc-only") == 0;
  if (argc > 2 || (argc == 2 && !alloc_only)) {
    std::fprintf(stderr, "usage: floor [--alloc-only]\n");
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::unique_ptr<floor_bpf, void (*)(floor_bpf*)> skel(floor_bpf__open(), floor_bpf__destroy);
  if (!skel) return std::perror("floor: open"), 1;
  bpf_program__set_autoload(skel->progs.kfree_floor, !alloc_only);
  if (int err = floor_bpf__load(skel.get()); err) return std::fprintf(stderr, "floor: load: %s\n", std::strerror(-err)), 1;
  if (int err = floor_bpf__attach(skel.get()); err)
    return std::fprintf(stderr, "floor: attach: %s\n", std::strerror(-err)), 1;
  std::fprintf(stderr, "slableak: tracing (benchmark floor%s)\n", alloc_only ? ", kmalloc only" : "");
  while (!g_stop) pause();
  return 0;
}
