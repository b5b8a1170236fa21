// split_host_port: the --listen argument.
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "http_request.h"

using namespace slableak;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  std::string host = "unchanged";
  uint16_t port = 7;
  if (!split_host_port(s, &host, &port)) {
    FUZZ_CHECK(host == "unchanged" && port == 7);  // outputs untouched on failure
    return 0;
  }
  FUZZ_CHECK(!host.empty());
  const std::string digits = s.substr(s.rfind(':') + 1);
  FUZZ_CHECK(!digits.empty() && digits.size() <= 5);
  FUZZ_CHECK(std::stoul(digits) == port);
  if (s[0] == '[')
    FUZZ_CHECK(s == "[" + host + "]:" + digits);
  else
    FUZZ_CHECK(s == host + ":" + digits);
  return 0;
}
