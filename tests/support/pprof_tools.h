// Real pprof decoders for the tests: `go tool pprof` (golang-go) and
// `protoc --decode perftools.profiles.Profile` with profile.proto from
// Debian's golang-github-google-pprof-dev. A profile the tests make is
// always read by one of these, never only by our own code.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

namespace pprof_tools {

inline constexpr const char* kProfileProto = "/usr/share/gocode/src/github.com/google/pprof/proto/profile.proto";

// Why the decoders cannot run here, or "".
inline std::string unavailable() {
  if (access("/usr/bin/go", X_OK) != 0) return "no /usr/bin/go (apt-get install golang-go)";
  if (access("/usr/bin/protoc", X_OK) != 0) return "no /usr/bin/protoc (apt-get install protobuf-compiler)";
  if (access(kProfileProto, R_OK) != 0) return std::string("no ") + kProfileProto + " (golang-github-google-pprof-dev)";
  return "";
}

struct Result {
  int status = -1;
  std::string out;  // stdout and stderr together
};

inline Result shell(const std::string& cmd) {
  Result r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

// `go tool pprof ARGS FILE` (gzipped or not), with its caches in /tmp.
inline Result go_pprof(const std::string& args, const std::string& file) {
  return shell("HOME=/tmp GOCACHE=/tmp/slableak-gocache PPROF_TMPDIR=/tmp go tool pprof " + args +
               " '" + file + "'");
}

// The profile as protoc's text format; @file gzipped.
inline Result protoc_decode(const std::string& file) {
  const std::string dir = std::string(kProfileProto).substr(0, std::string(kProfileProto).rfind('/'));
  return shell("gzip -dc '" + file + "' | protoc --decode perftools.profiles.Profile -I '" + dir +
               "' profile.proto");
}

}  // namespace pprof_tools
