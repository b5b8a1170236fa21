// Content-Security-Policy source expressions for inline <script> and
// <style>: the page carries no nonce (it is rendered once and served many
// times), so each inline block is allowed by the SHA-256 of its exact text.
#pragma once
#include <string>
#include <string_view>

namespace slableak {

// "'sha256-<base64 of SHA-256(text)>'", as CSP Level 2 defines it.
std::string csp_sha256_source(std::string_view text);

}  // namespace slableak
