#include "http_request.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace slableak {

bool split_host_port(const std::string& s, std::string* host, uint16_t* port) {
  std::string h, p;
  if (!s.empty() && s[0] == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    h = s.substr(0, colon);
    p = s.substr(colon + 1);
  }
  if (h.empty() || p.empty() || p.size() > 5) return false;
  unsigned long v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  if (v > 65535) return false;
  *host = h;
  *port = static_cast<uint16_t>(v);
  return true;
}

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
  }
  return "Internal Server Error";
}

struct Extra {
  bool head_only = false;         // the answer to HEAD: headers only
  const char* allow = nullptr;    // 405: say what is allowed
  unsigned retry_after = 0;       // 503: when to come back
  const char* content_type = nullptr;  // 200: instead of the Prometheus text type
};

HttpReply respond(int status, std::string_view body, Extra x = {}) {
  const bool ok = status == 200;
  HttpReply r;
  r.need_more = false;
  r.status = status;
  r.head = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\nContent-Type: " +
           (ok && x.content_type ? x.content_type
            : ok                 ? "text/plain; version=0.0.4; charset=utf-8"
                                 : "text/plain; charset=utf-8") +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (x.allow) r.head += std::string("Allow: ") + x.allow + "\r\n";
  if (x.retry_after) r.head += "Retry-After: " + std::to_string(x.retry_after) + "\r\n";
  r.head += "Connection: close\r\n\r\n";
  if (!x.head_only) r.body = body;
  return r;
}

// The live page: strict headers, since it shows names the kernel chose.
HttpReply respond_page(const HttpPage& page, bool head_only) {
  HttpReply r;
  r.need_more = false;
  r.status = 200;
  r.head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
           std::to_string(page.body.size()) + "\r\nContent-Security-Policy: " + page.csp +
           "\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nCache-Control: no-store\r\n"
           "Connection: close\r\n\r\n";
  if (!head_only) r.body = page.body;
  return r;
}

// RFC 9110 token characters (methods, header names).
bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool all_tchar(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

// Visible ASCII only: no spaces, no controls, no bytes >= 0x80.
bool is_target_char(char c) { return c > 0x20 && c < 0x7f; }

// Header field values: visible characters, spaces, tabs and obs-text.
bool is_value_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || u >= 0x20 ? u != 0x7f : false;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

// The path of a request target (without its query), or nullopt if the
// target is neither origin form ("/p?q") nor absolute form
// ("http://authority/p?q"; the authority is not checked: we serve one thing
// whatever name the client used).
std::optional<std::string_view> target_path(std::string_view target) {
  if (!target.empty() && target[0] == '/') return target.substr(0, target.find('?'));
  for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (!iequals_prefix(target, scheme)) continue;
    const std::string_view rest = target.substr(scheme.size());
    const size_t end = rest.find_first_of("/?#");
    if (end == 0) return std::nullopt;  // no authority
    if (end == std::string_view::npos || rest[end] != '/') return std::string_view("/");
    const std::string_view p = rest.substr(end);
    return p.substr(0, p.find('?'));
  }
  return std::nullopt;
}

}  // namespace

HttpReply http_reply(std::string_view in, HttpInput input, std::optional<std::string_view> metrics, size_t max_head,
                     unsigned retry_after_s, const HttpPage* page, std::optional<std::string_view> profile) {
  // End of the head: an empty line, CRLF or (leniently) bare LF.
  const size_t crlf = in.find("\r\n\r\n"), lf = in.find("\n\n");
  size_t head_len = std::string_view::npos;  // head without its final empty line
  size_t total_len = std::string_view::npos;
  if (crlf != std::string_view::npos) {
    head_len = crlf;
    total_len = crlf + 4;
  }
  if (lf != std::string_view::npos && (total_len == std::string_view::npos || lf + 2 < total_len)) {
    head_len = lf;
    total_len = lf + 2;
  }
  if (total_len == std::string_view::npos || total_len > max_head) {
    if (in.size() > max_head || total_len != std::string_view::npos) {
      // A request line alone longer than the limit: the target is the culprit.
      const auto nl = in.substr(0, max_head).find('\n');
      return respond(nl == std::string_view::npos ? 414 : 431, "request head too large\n");
    }
    if (input == HttpInput::partial) return HttpReply{};
    if (in.empty()) {  // said nothing: just close
      HttpReply r;
      r.need_more = false;
      return r;
    }
    return input == HttpInput::timeout ? respond(408, "request not received in time\n")
                                       : respond(400, "incomplete request\n");
  }
  const std::string_view head = in.substr(0, head_len);

  // Request line: METHOD SP TARGET SP HTTP/1.x
  size_t eol = head.find('\n');
  std::string_view line = head.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return respond(400, "bad request line\n");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  Extra x;
  x.head_only = method == "HEAD";
  const auto path = target_path(target);
  if (method.size() > 32 || !all_tchar(method) || !path ||
      !std::all_of(target.begin(), target.end(), is_target_char))
    return respond(400, "bad request line\n", x);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    const bool http_like = version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' &&
                           version[5] <= '9' && version[6] == '.' && version[7] >= '0' && version[7] <= '9';
    return respond(http_like ? 505 : 400, http_like ? "only HTTP/1.0 and HTTP/1.1\n" : "bad request line\n", x);
  }

  // Header fields: NAME ":" VALUE, no folding, no control characters.
  while (eol != std::string_view::npos) {
    const size_t start = eol + 1;
    eol = head.find('\n', start);
    std::string_view h = head.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
    if (!h.empty() && h.back() == '\r') h.remove_suffix(1);
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos || !all_tchar(h.substr(0, colon)) ||
        !std::all_of(h.begin() + static_cast<std::ptrdiff_t>(colon) + 1, h.end(), is_value_char))
      return respond(400, "bad header field\n", x);
  }

  if (page && *path == "/") {
    if (method != "GET" && method != "HEAD") {
      x.allow = "GET, HEAD";
      return respond(405, "only GET / and GET /metrics\n", x);
    }
    return respond_page(*page, x.head_only);
  }
  const bool want_profile = *path == kPprofPath;
  if (*path != "/metrics" && !want_profile)
    return respond(404, page ? "only /, /metrics and /debug/pprof/slab are served here\n"
                             : "only /metrics and /debug/pprof/slab are served here\n", x);
  if (method != "GET") {
    x.allow = "GET";
    return respond(405, want_profile ? "only GET /debug/pprof/slab\n" : "only GET /metrics\n", x);
  }
  // The profile is ready when the metrics are: one collection makes both.
  if (!metrics || (want_profile && !profile)) {
    x.retry_after = std::max(1u, retry_after_s);
    return respond(503, "no collection has finished yet: retry after the first interval\n", x);
  }
  if (want_profile) {
    x.content_type = "application/octet-stream";
    return respond(200, *profile, x);
  }
  return respond(200, *metrics);
}

}  // namespace slableak
