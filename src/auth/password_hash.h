#pragma once
// Stored passwords: PBKDF2-HMAC-SHA256 with a random 16-byte salt, written as
//   pbkdf2-sha256$<iterations>$<salt, base64>$<32-byte hash, base64>
// (the passlib/Django shape, so the iteration count can rise later without
// invalidating the hashes already pasted into configs).
// Thread affinity: any thread (pure, except the salt's randomness).
#include <optional>
#include <string>
#include <string_view>

namespace camrelay {

constexpr unsigned kPasswordIterations = 300000;     // ~0.1 s on this machine's core, ~0.5 s on a Pi 4
constexpr unsigned kMinPasswordIterations = 200000;  // hashes below this are refused by the config loader
constexpr unsigned kMaxPasswordIterations = 10000000;
constexpr size_t kMaxPasswordBytes = 1024;           // longer: refused before hashing (bounded work)

struct PasswordHash {
    unsigned iterations = 0;
    std::string salt;  // raw bytes
    std::string hash;  // raw bytes
};

std::string hashPassword(std::string_view password, unsigned iterations = kPasswordIterations);
// nullopt with the reason (never quoting the text, which may be a pasted password).
std::optional<PasswordHash> parsePasswordHash(std::string_view text, std::string* why);
bool verifyPassword(std::string_view password, const PasswordHash& stored);

}  // namespace camrelay
