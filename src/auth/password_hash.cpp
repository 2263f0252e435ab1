#include "password_hash.h"

#include "crypto.h"

#include <charconv>
#include <vector>

namespace camrelay {

namespace {
constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

std::vector<std::string_view> split(std::string_view text, char by) {
    std::vector<std::string_view> parts;
    for (size_t at = 0;;) {
        size_t next = text.find(by, at);
        parts.push_back(text.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
        if (next == std::string_view::npos) return parts;
        at = next + 1;
    }
}
}  // namespace

std::string hashPassword(std::string_view password, unsigned iterations) {
    const std::string salt = randomBytes(kSaltBytes);
    return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + base64(salt) + "$" +
           base64(pbkdf2Sha256(password, salt, iterations, kHashBytes));
}

std::optional<PasswordHash> parsePasswordHash(std::string_view text, std::string* why) {
    const auto parts = split(text, '$');
    if (parts.size() != 4 || parts[0] != kScheme) {
        *why = "not a password hash (expected pbkdf2-sha256$...; make one with camrelay --hash-password)";
        return std::nullopt;
    }
    PasswordHash h;
    auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), h.iterations);
    if (ec != std::errc() || end != parts[1].data() + parts[1].size()) {
        *why = "the iteration count of the password hash is not a number";
        return std::nullopt;
    }
    if (h.iterations < kMinPasswordIterations || h.iterations > kMaxPasswordIterations) {
        *why = "the password hash uses " + std::to_string(h.iterations) + " iterations; at least " +
               std::to_string(kMinPasswordIterations) + " and at most " + std::to_string(kMaxPasswordIterations) +
               " are accepted (make a new one with camrelay --hash-password)";
        return std::nullopt;
    }
    if (!fromBase64(parts[2], &h.salt) || h.salt.size() < 8 || !fromBase64(parts[3], &h.hash) ||
        h.hash.size() != kHashBytes) {
        *why = "the salt or hash of the password hash is not valid base64 of the right length";
        return std::nullopt;
    }
    return h;
}

bool verifyPassword(std::string_view password, const PasswordHash& stored) {
    if (password.size() > kMaxPasswordBytes) return false;
    return constantTimeEqual(pbkdf2Sha256(password, stored.salt, stored.iterations, stored.hash.size()), stored.hash);
}

}  // namespace camrelay
