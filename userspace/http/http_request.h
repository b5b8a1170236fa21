// What to answer to the bytes a client of --listen sent: the pure half of
// the /metrics server (userspace/publish/metrics_server.h moves the bytes).
// No sockets, no clock: fuzzed on its own (tests/fuzz/fuzz_http_request.cpp)
// and linked alone into the fuzzers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace slableak {

// A request head larger than this gets 431 (414 if the request line alone is).
inline constexpr size_t kMaxHttpHeadBytes = 8192;
// Where the held set is served as a gzipped pprof profile (render/pprof_profile.h).
inline constexpr std::string_view kPprofPath = "/debug/pprof/slab";

// How the bytes of a request head stopped arriving.
enum class HttpInput {
  partial,  // more may come
  eof,      // the client closed its side
  timeout,  // the server's head timeout passed
};

struct HttpReply {
  bool need_more = true;  // no answer yet: keep reading
  int status = 0;         // 200, 400, 404, 405, 408, 414, 431, 503, 505
  std::string head;       // status line and headers, up to the empty line
  // The body: a view of the metrics text given to http_reply (200) or of a
  // static message. Empty in the answer to HEAD.
  std::string_view body;
  // The whole response, as sent.
  std::string bytes() const { return head + std::string(body); }
};

// The page served at "/": an HTML document and the Content-Security-Policy
// it was rendered with (report_html.h makes both).
struct HttpPage {
  std::string body;
  std::string csp;
};

// What to answer to @received, everything a client has sent on a connection
// so far, when @metrics is the exposition to serve (nullopt: no collection
// has finished yet). Pure. Only "GET /metrics[?query] HTTP/1.x" with a
// well-formed head gets 200, or 503 with "Retry-After: @retry_after_s"
// before the first collection (so that a scrape after a restart fails
// visibly instead of succeeding with no series); anything else an error
// status and a one-line text body. The request target may be in origin form
// ("/metrics") or absolute form ("http://host:port/metrics", which RFC 9112
// says servers must accept). With a @page, "GET /[?query]" gets it (and HEAD
// its headers) with the page's CSP, nosniff and no-store; the reply's body is
// then a view of @page->body. "GET /debug/pprof/slab" gets @profile (a
// gzipped pprof profile, application/octet-stream) under the same readiness
// rule: 503 while either is missing. Always "Connection: close".
HttpReply http_reply(std::string_view received, HttpInput input, std::optional<std::string_view> metrics,
                     size_t max_head_bytes = kMaxHttpHeadBytes, unsigned retry_after_s = 1,
                     const HttpPage* page = nullptr, std::optional<std::string_view> profile = std::nullopt);

// Parses "HOST:PORT" (IPv4, name, or [IPv6]); pure. Returns false, leaving
// the outputs untouched, if malformed.
bool split_host_port(const std::string& s, std::string* host, uint16_t* port);

}  // namespace slableak
