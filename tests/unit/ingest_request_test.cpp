// The Pyroscope ingest request of export --push-pprof (pure half).
#include "ingest_request.h"

#include <gtest/gtest.h>

namespace slableak {
namespace {

TEST(ParseHttpUrl, Forms) {
  HttpUrl u;
  std::string why;
  ASSERT_TRUE(parse_http_url("http://127.0.0.1:4040", &u, &why)) << why;
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 4040);
  EXPECT_EQ(u.prefix, "");
  ASSERT_TRUE(parse_http_url("http://[::1]:4040/pyroscope/", &u, &why)) << why;
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.prefix, "/pyroscope");
  ASSERT_TRUE(parse_http_url("http://10.0.0.1", &u, &why)) << why;
  EXPECT_EQ(u.port, 80);
  for (const char* bad : {"https://127.0.0.1:4040", "127.0.0.1:4040", "http://", "http://:4040", "http://h:0",
                          "http://h:65536", "http://h:", "http://u@h", "http://h/ingest?x=1", "http://[::1"}) {
    why.clear();
    EXPECT_FALSE(parse_http_url(bad, &u, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
    EXPECT_EQ(why.find('\n'), std::string::npos);
  }
}

TEST(IngestRequest, MultipartWithProfileAndSampleTypeConfig) {
  HttpUrl u;
  std::string why;
  ASSERT_TRUE(parse_http_url("http://127.0.0.1:4040/p", &u, &why));
  IngestPush push{"slableak{service_name=slableak,host=h1}", 100, 115, std::string("\x1f\x8b\0z", 4), "{\"a\":1}"};
  const std::string r = ingest_request(u, push, "BOUND");
  const std::string head = r.substr(0, r.find("\r\n\r\n") + 4);
  const std::string body = r.substr(head.size());
  EXPECT_EQ(head,
            "POST /p/ingest?name=slableak%7Bservice_name%3Dslableak%2Chost%3Dh1%7D&from=100&until=115&format=pprof "
            "HTTP/1.1\r\nHost: 127.0.0.1:4040\r\nUser-Agent: slableak\r\nContent-Type: multipart/form-data; "
            "boundary=BOUND\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(body,
            "--BOUND\r\nContent-Disposition: form-data; name=\"profile\"; filename=\"profile.pb.gz\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n" + push.profile + "\r\n"
            "--BOUND\r\nContent-Disposition: form-data; name=\"sample_type_config\"; "
            "filename=\"sample_type_config.json\"\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n--BOUND--\r\n");
}

TEST(HttpStatus, ReadsTheStatusLine) {
  EXPECT_EQ(http_status("HTTP/1.1 200 OK\r\n"), 200);
  EXPECT_EQ(http_status("HTTP/1.0 503 x"), 503);
  EXPECT_EQ(http_status("HTTP/1.1 2"), 0);
  EXPECT_EQ(http_status("SSH-2.0-OpenSSH"), 0);
}

}  // namespace
}  // namespace slableak
