// The request that pushes a pprof profile to Pyroscope's ingest API
// (POST /ingest?name=...&from=...&until=...&format=pprof, multipart/form-data
// with the parts `profile` and `sample_type_config`), and the reading of its
// answer. Pure: publish/pprof_pusher.h moves the bytes.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace slableak {

// "http://HOST[:PORT][/PREFIX]" (no TLS, no user info). The ingest path is
// appended to PREFIX.
struct HttpUrl {
  std::string host;  // name, IPv4, or IPv6 without brackets
  uint16_t port = 80;
  std::string prefix;  // "" or "/pyroscope" (no trailing '/')
};
// False with a one-line reason in @why if @url is not such a URL.
bool parse_http_url(const std::string& url, HttpUrl* out, std::string* why);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view s);

struct IngestPush {
  std::string name;          // "slableak{service_name=slableak,host=web-1}"
  int64_t from_unix = 0;     // the window the profile covers
  int64_t until_unix = 0;
  std::string profile;       // gzipped pprof
  std::string sample_type_config;  // JSON: {"inuse_space": {"units": "bytes", ...}, ...}
};

// The whole HTTP/1.1 request, "Connection: close". @boundary must not occur
// in the parts (the caller picks a random one and checks).
std::string ingest_request(const HttpUrl& url, const IngestPush& push, const std::string& boundary);

// The status code of an HTTP response that starts with @response, or 0 if
// the status line is not (yet) there.
int http_status(std::string_view response);

}  // namespace slableak
