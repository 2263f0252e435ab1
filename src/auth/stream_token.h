#pragma once
// Read-only stream tokens: "cr1.<camera id>.<expiry, Unix seconds>.<signature>",
// the signature an HMAC-SHA256 under the service's key (auth_key.h). Stateless:
// nothing to store or expire, and a token names the one camera it opens.
// Thread affinity: any thread (immutable after construction).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace camrelay {

struct StreamGrant {
    std::string camera;
    int64_t expiresUnix = 0;
};

enum class TokenCheck { Valid, Malformed, BadSignature, Expired };

class TokenSigner {
public:
    explicit TokenSigner(std::string key) : key_(std::move(key)) {}
    std::string issue(const std::string& camera, int64_t expiresUnix) const;
    // The grant when the signature is right and it has not expired; `check` says why not.
    std::optional<StreamGrant> verify(std::string_view token, int64_t nowUnix, TokenCheck* check) const;

private:
    std::string signature(std::string_view camera, std::string_view expires) const;
    std::string key_;
};

}  // namespace camrelay
