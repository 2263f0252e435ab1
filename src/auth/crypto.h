#pragma once
// The few cryptographic primitives auth needs, from nettle (GnuTLS's own
// crypto library) and the kernel's random source. Nothing hand-rolled.
// Thread affinity: any thread (pure functions).
#include <string>
#include <string_view>

namespace camrelay {

// Bytes from getrandom(2); aborts the process if the kernel cannot give them
// (a predictable secret is worse than no service).
std::string randomBytes(size_t count);
// HMAC-SHA256 of message under key: 32 raw bytes.
std::string hmacSha256(std::string_view key, std::string_view message);
// PBKDF2-HMAC-SHA256 (RFC 8018): `length` raw bytes.
std::string pbkdf2Sha256(std::string_view password, std::string_view salt, unsigned iterations, size_t length);
// Equal length and content, in time that depends only on the length.
bool constantTimeEqual(std::string_view a, std::string_view b);
// RFC 4648 §5 base64url without padding, safe in URLs and cookies.
std::string base64Url(std::string_view bytes);
// Standard base64 (with padding) both ways; nullopt-like empty + false on bad input.
std::string base64(std::string_view bytes);
bool fromBase64(std::string_view text, std::string* bytes);

}  // namespace camrelay
