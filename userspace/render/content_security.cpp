#include "content_security.h"

#include <nettle/base64.h>
#include <nettle/sha2.h>

namespace slableak {

std::string csp_sha256_source(std::string_view text) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, text.size(), reinterpret_cast<const uint8_t*>(text.data()));
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof digest, digest);
  char b64[BASE64_ENCODE_RAW_LENGTH(SHA256_DIGEST_SIZE) + 1] = {};
  base64_encode_raw(b64, sizeof digest, digest);
  return "'sha256-" + std::string(b64, BASE64_ENCODE_RAW_LENGTH(SHA256_DIGEST_SIZE)) + "'";
}

}  // namespace slableak
