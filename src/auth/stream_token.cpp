#include "stream_token.h"

#include "crypto.h"

#include <charconv>

namespace camrelay {

namespace {
constexpr std::string_view kPrefix = "cr1.";
constexpr size_t kMaxTokenBytes = 256;

bool idChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; }
}  // namespace

std::string TokenSigner::signature(std::string_view camera, std::string_view expires) const {
    // Domain-separated so a signature can never be reused for another purpose of the same key.
    std::string message = "camrelay stream token\n";
    message.append(camera).append("\n").append(expires);
    return base64Url(hmacSha256(key_, message));
}

std::string TokenSigner::issue(const std::string& camera, int64_t expiresUnix) const {
    const std::string expires = std::to_string(expiresUnix);
    return std::string(kPrefix) + camera + "." + expires + "." + signature(camera, expires);
}

std::optional<StreamGrant> TokenSigner::verify(std::string_view token, int64_t nowUnix, TokenCheck* check) const {
    *check = TokenCheck::Malformed;
    if (token.size() > kMaxTokenBytes || token.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
    token.remove_prefix(kPrefix.size());
    const size_t dot1 = token.find('.');
    const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || dot1 == 0 || dot1 > 64) return std::nullopt;
    const std::string_view camera = token.substr(0, dot1);
    const std::string_view expires = token.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string_view sig = token.substr(dot2 + 1);
    for (char c : camera)
        if (!idChar(c)) return std::nullopt;
    int64_t expiresUnix = 0;
    auto [end, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), expiresUnix);
    if (expires.empty() || !(expires[0] >= '0' && expires[0] <= '9') || ec != std::errc() || end != expires.data() + expires.size()) return std::nullopt;
    if (!constantTimeEqual(sig, signature(camera, expires))) {
        *check = TokenCheck::BadSignature;
        return std::nullopt;
    }
    if (expiresUnix <= nowUnix) {
        *check = TokenCheck::Expired;
        return std::nullopt;
    }
    *check = TokenCheck::Valid;
    return StreamGrant{std::string(camera), expiresUnix};
}

}  // namespace camrelay
