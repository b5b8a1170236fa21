// http_reply: every byte a client of --listen sends, as the server sees it.
// Input: first byte = how the input ends (partial, EOF, timeout) and where
// it is split for the incremental check; the rest = the bytes received.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http_request.h"

using namespace slableak;

namespace {

constexpr size_t kMaxHead = 8192;
constexpr std::string_view kMetrics = "# TYPE slableak_up gauge\nslableak_up 1\n";

void check_reply(const HttpReply& r, std::string_view received, HttpInput input, bool ready) {
  if (r.need_more) {
    FUZZ_CHECK(input == HttpInput::partial);
    FUZZ_CHECK(received.size() <= kMaxHead);
    FUZZ_CHECK(r.head.empty() && r.body.empty());
    return;
  }
  if (r.head.empty()) {  // close without a word: only when nothing was said
    FUZZ_CHECK(received.empty() && input != HttpInput::partial && r.body.empty());
    return;
  }
  static const int allowed[] = {200, 400, 404, 405, 408, 414, 431, 503, 505};
  bool known = false;
  for (int s : allowed) known = known || s == r.status;
  FUZZ_CHECK(known);
  const std::string status_line = "HTTP/1.1 " + std::to_string(r.status) + " ";
  FUZZ_CHECK(r.head.rfind(status_line, 0) == 0);
  FUZZ_CHECK(r.head.size() >= 4 && r.head.find("\r\n\r\n") == r.head.size() - 4);
  FUZZ_CHECK(r.head.find("\r\nConnection: close\r\n") != std::string::npos);
  const size_t cl = r.head.find("\r\nContent-Length: ");
  FUZZ_CHECK(cl != std::string::npos);
  const size_t length = std::stoul(r.head.substr(cl + 18));
  FUZZ_CHECK(r.body.size() == length || r.body.empty());  // empty: the answer to HEAD
  // Only a GET of /metrics (origin or absolute form) gets the metrics, and
  // only once there are metrics; before that it gets 503 with Retry-After.
  const bool get_metrics = received.rfind("GET ", 0) == 0;
  if (r.status == 200) {
    FUZZ_CHECK(ready && get_metrics);
    FUZZ_CHECK(r.body == kMetrics);
  }
  if (r.status == 503) {
    FUZZ_CHECK(!ready && get_metrics);
    FUZZ_CHECK(r.head.find("\r\nRetry-After: 7\r\n") != std::string::npos);
  }
}

// With the live page set, only what was a 404 may change: GET or HEAD of
// "/" get the page, always with its policy and nosniff.
void check_with_page(const HttpReply& without, std::string_view received, HttpInput input) {
  static const HttpPage page{"<!DOCTYPE html><p>page</p>", "default-src 'none'"};
  const HttpReply r = http_reply(received, input, kMetrics, kMaxHead, 7, &page);
  FUZZ_CHECK(r.need_more == without.need_more);
  if (without.status != 404) {
    FUZZ_CHECK(r.bytes() == without.bytes());
    return;
  }
  FUZZ_CHECK(r.status == 200 || r.status == 404 || r.status == 405);
  if (r.status != 200) return;
  FUZZ_CHECK(received.rfind("GET / ", 0) == 0 || received.rfind("GET /?", 0) == 0 ||
             received.rfind("HEAD / ", 0) == 0 || received.rfind("HEAD /?", 0) == 0);
  FUZZ_CHECK(r.head.find("\r\nContent-Security-Policy: default-src 'none'\r\n") != std::string::npos);
  FUZZ_CHECK(r.head.find("\r\nX-Content-Type-Options: nosniff\r\n") != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const HttpInput input = static_cast<HttpInput>(data[0] % 3);
  const std::string_view received(reinterpret_cast<const char*>(data) + 1, size - 1);
  const HttpReply whole = http_reply(received, input, kMetrics, kMaxHead, 7);
  check_reply(whole, received, input, true);
  check_with_page(whole, received, input);
  // Before the first collection: the same answer, except 503 for 200.
  const HttpReply early_start = http_reply(received, input, std::nullopt, kMaxHead, 7);
  check_reply(early_start, received, input, false);
  FUZZ_CHECK(early_start.status == (whole.status == 200 ? 503 : whole.status));

  // Bytes arrive in pieces: once a prefix gets an answer, the whole input
  // (more bytes after the same head) gets the same one.
  const size_t split = received.empty() ? 0 : (data[0] / 3) * received.size() / 86;
  const std::string_view prefix = received.substr(0, std::min(split, received.size()));
  const HttpReply early = http_reply(prefix, HttpInput::partial, kMetrics, kMaxHead, 7);
  check_reply(early, prefix, HttpInput::partial, true);
  if (!early.need_more) {
    const HttpReply later = http_reply(received, HttpInput::partial, kMetrics, kMaxHead, 7);
    FUZZ_CHECK(!later.need_more && later.status == early.status);
  }
  return 0;
}
