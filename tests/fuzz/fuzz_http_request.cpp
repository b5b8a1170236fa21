// http_reply: every byte a client of --listen sends, as the server sees it.
// Input: first byte = how the input ends (partial, EOF, timeout) and where
// it is split for the incremental check; the rest = the bytes received.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "metrics_server.h"

using namespace slableak;

namespace {

constexpr size_t kMaxHead = 8192;
constexpr std::string_view kMetrics = "# TYPE slableak_up gauge\nslableak_up 1\n";

void check_reply(const HttpReply& r, std::string_view received, HttpInput input) {
  if (r.need_more) {
    FUZZ_CHECK(input == HttpInput::partial);
    FUZZ_CHECK(received.size() <= kMaxHead);
    FUZZ_CHECK(r.bytes.empty());
    return;
  }
  if (r.bytes.empty()) {  // close without a word: only when nothing was said
    FUZZ_CHECK(received.empty() && input != HttpInput::partial);
    return;
  }
  static const int allowed[] = {200, 400, 404, 405, 408, 414, 431, 505};
  bool known = false;
  for (int s : allowed) known = known || s == r.status;
  FUZZ_CHECK(known);
  const std::string status_line = "HTTP/1.1 " + std::to_string(r.status) + " ";
  FUZZ_CHECK(r.bytes.rfind(status_line, 0) == 0);
  const size_t end = r.bytes.find("\r\n\r\n");
  FUZZ_CHECK(end != std::string::npos);
  const std::string head = r.bytes.substr(0, end + 2);
  FUZZ_CHECK(head.find("\r\nConnection: close\r\n") != std::string::npos);
  const size_t cl = head.find("\r\nContent-Length: ");
  FUZZ_CHECK(cl != std::string::npos);
  const size_t length = std::stoul(head.substr(cl + 18));
  const size_t body = r.bytes.size() - end - 4;
  FUZZ_CHECK(body == length || body == 0);  // 0: the answer to HEAD
  if (r.status == 200) {
    FUZZ_CHECK(received.rfind("GET /metrics ", 0) == 0 || received.rfind("GET /metrics?", 0) == 0);
    FUZZ_CHECK(r.bytes.substr(end + 4) == kMetrics);
  }
}

// With the live page set, only what was a 404 may change: GET or HEAD of
// "/" get the page, always with its policy and nosniff.
void check_with_page(const HttpReply& without, std::string_view received, HttpInput input) {
  static const HttpPage page{"<!DOCTYPE html><p>page</p>", "default-src 'none'"};
  const HttpReply r = http_reply(received, input, kMetrics, kMaxHead, &page);
  FUZZ_CHECK(r.need_more == without.need_more);
  if (without.status != 404) {
    FUZZ_CHECK(r.bytes == without.bytes);
    return;
  }
  FUZZ_CHECK(r.status == 200 || r.status == 404 || r.status == 405);
  if (r.status != 200) return;
  FUZZ_CHECK(received.rfind("GET / ", 0) == 0 || received.rfind("GET /?", 0) == 0 ||
             received.rfind("HEAD / ", 0) == 0 || received.rfind("HEAD /?", 0) == 0);
  FUZZ_CHECK(r.bytes.find("\r\nContent-Security-Policy: default-src 'none'\r\n") != std::string::npos);
  FUZZ_CHECK(r.bytes.find("\r\nX-Content-Type-Options: nosniff\r\n") != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const HttpInput input = static_cast<HttpInput>(data[0] % 3);
  const std::string_view received(reinterpret_cast<const char*>(data) + 1, size - 1);
  const HttpReply whole = http_reply(received, input, kMetrics, kMaxHead);
  check_reply(whole, received, input);
  check_with_page(whole, received, input);

  // Bytes arrive in pieces: once a prefix gets an answer, the whole input
  // (more bytes after the same head) gets the same one.
  const size_t split = received.empty() ? 0 : (data[0] / 3) * received.size() / 86;
  const std::string_view prefix = received.substr(0, std::min(split, received.size()));
  const HttpReply early = http_reply(prefix, HttpInput::partial, kMetrics, kMaxHead);
  check_reply(early, prefix, HttpInput::partial);
  if (!early.need_more) {
    const HttpReply later = http_reply(received, HttpInput::partial, kMetrics, kMaxHead);
    FUZZ_CHECK(!later.need_more && later.status == early.status);
  }
  return 0;
}
