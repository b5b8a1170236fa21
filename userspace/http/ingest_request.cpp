#include "ingest_request.h"

namespace slableak {

bool parse_http_url(const std::string& url, HttpUrl* out, std::string* why) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) {
    *why = "'" + url + "' is not an http:// URL (https is not supported: push through a local proxy)";
    return false;
  }
  std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.find_first_of("?#") != std::string::npos) {
    *why = "'" + url + "' has a query or fragment: give the server's base URL, such as http://pyroscope:4040";
    return false;
  }
  for (char c : path)
    if (c <= 0x20 || c >= 0x7f) {
      *why = "'" + url + "' has a space or control character in its path";
      return false;
    }
  if (authority.empty() || authority.find('@') != std::string::npos) {
    *why = "'" + url + "' has no host (or has user info, which is not supported)";
    return false;
  }
  HttpUrl u;
  u.prefix = path;
  std::string port;
  if (authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) {
      *why = "'" + url + "': unclosed '[' in the host";
      return false;
    }
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        *why = "'" + url + "': bad host";
        return false;
      }
      port = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) {
    *why = "'" + url + "' has no host";
    return false;
  }
  if (!port.empty() || authority.back() == ':') {
    unsigned long v = 0;
    bool ok = !port.empty() && port.size() <= 5;
    for (char c : port) ok = ok && c >= '0' && c <= '9', v = v * 10 + static_cast<unsigned long>(c - '0');
    if (!ok || v == 0 || v > 65535) {
      *why = "'" + url + "': the port must be 1 to 65535";
      return false;
    }
    u.port = static_cast<uint16_t>(v);
  }
  *out = u;
  return true;
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string ingest_request(const HttpUrl& url, const IngestPush& push, const std::string& boundary) {
  std::string body;
  auto part = [&](const char* name, const char* filename, const char* type, const std::string& data) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename +
            "\"\r\nContent-Type: " + type + "\r\n\r\n" + data + "\r\n";
  };
  part("profile", "profile.pb.gz", "application/octet-stream", push.profile);
  part("sample_type_config", "sample_type_config.json", "application/json", push.sample_type_config);
  body += "--" + boundary + "--\r\n";

  const bool v6 = url.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + url.host + "]" : url.host;
  if (url.port != 80) host += ":" + std::to_string(url.port);
  std::string req = "POST " + url.prefix + "/ingest?name=" + url_encode(push.name) +
                    "&from=" + std::to_string(push.from_unix) + "&until=" + std::to_string(push.until_unix) +
                    "&format=pprof HTTP/1.1\r\nHost: " + host +
                    "\r\nUser-Agent: slableak\r\nContent-Type: multipart/form-data; boundary=" + boundary +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  return req + body;
}

int http_status(std::string_view r) {
  // "HTTP/1.x NNN"
  if (r.size() < 12 || r.substr(0, 5) != "HTTP/" || r[8] != ' ') return 0;
  int v = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (r[i] < '0' || r[i] > '9') return 0;
    v = v * 10 + (r[i] - '0');
  }
  return v;
}

}  // namespace slableak
