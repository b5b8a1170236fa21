// Attaches the benchmark floor programs (bench/floor.bpf.c) until SIGINT or
// SIGTERM: `floor` on kmalloc and kfree (what any tracer that sees frees
// pays), `floor --alloc-only` on kmalloc alone (what bpftrace's count pays).
// Once attached it says so on stderr and, with --ready-fd N, writes one JSON
// line ({"ready":true,...}, as slableak does) to descriptor N for scripts.
#include <bpf/libbpf.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "floor.skel.h"

namespace {
volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  bool alloc_only = false;
  int ready_fd = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--alloc-only") == 0) {
      alloc_only = true;
    } else if (std::strcmp(argv[i], "--ready-fd") == 0 && i + 1 < argc) {
      char* end = nullptr;
      const long fd = std::strtol(argv[++i], &end, 10);
      if (*end != 0 || fd < 0 || fd > 1048575) return std::fprintf(stderr, "floor: bad --ready-fd\n"), 2;
      ready_fd = static_cast<int>(fd);
    } else {
      std::fprintf(stderr, "usage: floor [--alloc-only] [--ready-fd N]\n");
      return 2;
    }
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
  if (ready_fd >= 0) {
    const std::string line = "{\"ready\":true,\"pid\":" + std::to_string(getpid()) + ",\"method\":\"floor\"}\n";
    if (write(ready_fd, line.data(), line.size()) < 0) std::perror("floor: --ready-fd");
    close(ready_fd);
  }
  while (!g_stop) pause();
  return 0;
}
