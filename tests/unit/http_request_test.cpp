// http_reply and split_host_port: the pure half of the /metrics server.
#include "http_request.h"

#include <gtest/gtest.h>

namespace slableak {
namespace {

TEST(HttpReply, WaitsForAWholeHeadThenDecides) {
  const std::string m = "x 1\n";
  EXPECT_TRUE(http_reply("GET /metrics HTTP/1.1\r\n", HttpInput::partial, m).need_more);
  EXPECT_EQ(http_reply("GET /metrics HTTP/1.1\r\n", HttpInput::timeout, m).status, 408);
  EXPECT_EQ(http_reply("GET /metrics HTTP/1.1\r\n", HttpInput::eof, m).status, 400);
  const HttpReply none = http_reply("", HttpInput::timeout, m);
  EXPECT_FALSE(none.need_more);
  EXPECT_TRUE(none.bytes().empty());
  const HttpReply ok = http_reply("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", HttpInput::partial, m);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.bytes(),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 4\r\n"
            "Connection: close\r\n\r\nx 1\n");
  EXPECT_EQ(ok.body.data(), m.data()) << "the metrics text is viewed, not copied";
  EXPECT_EQ(http_reply(std::string(9000, 'G'), HttpInput::partial, m).status, 414);
  EXPECT_EQ(http_reply("GET / HTTP/1.1\r\nX: " + std::string(9000, 'a'), HttpInput::partial, m).status, 431);
  EXPECT_EQ(http_reply("GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n", HttpInput::partial, m).status,
            431);
}

// Before the first collection there is nothing to serve: 503 with
// Retry-After, so that Prometheus records a failed scrape (up=0) instead of
// a successful one with no series.
TEST(HttpReply, BeforeTheFirstCollectionAnswers503WithRetryAfter) {
  const HttpReply r = http_reply("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", HttpInput::partial, std::nullopt,
                                 kMaxHttpHeadBytes, 15);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.head.find("\r\nRetry-After: 15\r\n"), std::string::npos) << r.head;
  EXPECT_FALSE(r.body.empty());
  // An empty exposition is still an exposition: 200 (not the case before a
  // collection, which always renders families).
  EXPECT_EQ(http_reply("GET /metrics HTTP/1.1\r\n\r\n", HttpInput::partial, std::string_view()).status, 200);
  // Errors are decided first: 404 stays 404.
  EXPECT_EQ(http_reply("GET / HTTP/1.1\r\n\r\n", HttpInput::partial, std::nullopt).status, 404);
  EXPECT_EQ(http_reply("POST /metrics HTTP/1.1\r\n\r\n", HttpInput::partial, std::nullopt).status, 405);
}

// /debug/pprof/slab: the gzipped profile, under /metrics' readiness rule.
TEST(HttpReply, ProfileAtDebugPprofSlab) {
  const std::string m = "x 1\n", p("\x1f\x8b\x08\0binary", 10);
  const std::string get = "GET /debug/pprof/slab HTTP/1.1\r\nHost: a\r\n\r\n";
  const HttpReply ok = http_reply(get, HttpInput::partial, m, kMaxHttpHeadBytes, 1, nullptr, p);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.bytes(),
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n"
            "Connection: close\r\n\r\n" + p);
  EXPECT_EQ(ok.body.data(), p.data()) << "the profile is viewed, not copied";
  // Query strings (Parca adds ?seconds=) are ignored; /metrics is unchanged.
  EXPECT_EQ(http_reply("GET /debug/pprof/slab?seconds=10 HTTP/1.1\r\n\r\n", HttpInput::partial, m, kMaxHttpHeadBytes,
                       1, nullptr, p).status, 200);
  EXPECT_EQ(http_reply("GET /metrics HTTP/1.1\r\n\r\n", HttpInput::partial, m, kMaxHttpHeadBytes, 1, nullptr, p).body,
            m);
  // Before the first collection: 503 with Retry-After, as /metrics.
  for (auto [metrics, profile] : {std::pair<std::optional<std::string_view>, std::optional<std::string_view>>{
                                      std::nullopt, std::nullopt},
                                  {m, std::nullopt}, {std::nullopt, p}}) {
    const HttpReply r = http_reply(get, HttpInput::partial, metrics, kMaxHttpHeadBytes, 7, nullptr, profile);
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(r.head.find("\r\nRetry-After: 7\r\n"), std::string::npos) << r.head;
  }
  EXPECT_EQ(http_reply("POST /debug/pprof/slab HTTP/1.1\r\n\r\n", HttpInput::partial, m, kMaxHttpHeadBytes, 1,
                       nullptr, p).status, 405);
  EXPECT_EQ(http_reply("GET /debug/pprof/heap HTTP/1.1\r\n\r\n", HttpInput::partial, m, kMaxHttpHeadBytes, 1, nullptr,
                       p).status, 404);
}

// RFC 9112 3.2.2: a server must accept the absolute form of a target (what
// a client sends to a proxy); the authority is not ours to judge.
TEST(HttpReply, AbsoluteFormTargetsAreAccepted) {
  const std::string m = "x 1\n";
  for (const char* target : {"http://127.0.0.1/metrics", "http://127.0.0.1:9435/metrics", "HTTP://[::1]:9435/metrics",
                             "http://host.example/metrics?x=1", "https://h/metrics"})
    EXPECT_EQ(http_reply(std::string("GET ") + target + " HTTP/1.1\r\nHost: h\r\n\r\n", HttpInput::partial, m).status,
              200)
        << target;
  for (const char* target : {"http://127.0.0.1/", "http://127.0.0.1", "http://h?metrics", "http://h/metricsx"})
    EXPECT_EQ(http_reply(std::string("GET ") + target + " HTTP/1.1\r\n\r\n", HttpInput::partial, m).status, 404)
        << target;
  for (const char* target : {"http:///metrics", "ftp://h/metrics", "metrics", "*", "http:/metrics"})
    EXPECT_EQ(http_reply(std::string("GET ") + target + " HTTP/1.1\r\n\r\n", HttpInput::partial, m).status, 400)
        << target;
}

TEST(HttpReply, PageAtRootWithStrictHeaders) {
  const std::string m = "x 1\n";
  const HttpPage page{"<!DOCTYPE html><p>held</p>", "default-src 'none'; frame-ancestors 'none'"};
  const HttpReply ok = http_reply("GET / HTTP/1.1\r\nHost: a\r\n\r\n", HttpInput::partial, m, 8192, 1, &page);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.bytes(),
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 26\r\n"
            "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
            "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nCache-Control: no-store\r\n"
            "Connection: close\r\n\r\n<!DOCTYPE html><p>held</p>");
  EXPECT_EQ(http_reply("GET /?x=1 HTTP/1.1\r\n\r\n", HttpInput::partial, m, 8192, 1, &page).status, 200);
  // HEAD: the same headers, no body.
  const HttpReply head = http_reply("HEAD / HTTP/1.1\r\n\r\n", HttpInput::partial, m, 8192, 1, &page);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.bytes(), ok.bytes().substr(0, ok.bytes().size() - page.body.size()));
  const HttpReply post = http_reply("POST / HTTP/1.1\r\n\r\n", HttpInput::partial, m, 8192, 1, &page);
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(post.head.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos) << post.head;
  // /metrics is the same with or without a page; other paths stay 404.
  EXPECT_EQ(http_reply("GET /metrics HTTP/1.1\r\n\r\n", HttpInput::partial, m, 8192, 1, &page).bytes(),
            http_reply("GET /metrics HTTP/1.1\r\n\r\n", HttpInput::partial, m).bytes());
  EXPECT_EQ(http_reply("GET /index.html HTTP/1.1\r\n\r\n", HttpInput::partial, m, 8192, 1, &page).status, 404);
  EXPECT_EQ(http_reply("GET / HTTP/1.1\r\n\r\n", HttpInput::partial, m).status, 404);  // no page set
}

TEST(SplitHostPort, Forms) {
  std::string h;
  uint16_t p = 0;
  EXPECT_TRUE(split_host_port("127.0.0.1:9435", &h, &p));
  EXPECT_EQ(h, "127.0.0.1");
  EXPECT_EQ(p, 9435);
  EXPECT_TRUE(split_host_port("[::1]:0", &h, &p));
  EXPECT_EQ(h, "::1");
  EXPECT_EQ(p, 0);
  for (const char* bad : {"", ":1", "h:", "h:65536", "h:123456", "[::1]9", "[::1]", "h:-1", "h:1x"}) {
    h = "unchanged";
    EXPECT_FALSE(split_host_port(bad, &h, &p)) << bad;
    EXPECT_EQ(h, "unchanged");
  }
}

}  // namespace
}  // namespace slableak
