#pragma once
// Failed password checks per client address in a sliding minute: beyond the
// limit, further attempts from that address are refused before any hashing,
// which bounds both guessing and the CPU a client can make the service spend.
// Thread affinity: not thread-safe; the Authenticator guards it.
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

namespace camrelay {

class LoginLimiter {
public:
    explicit LoginLimiter(int failuresPerMinute) : limit_(failuresPerMinute) {}
    // 0 when the address may try now, else the seconds until it may.
    int retryAfterSec(const std::string& address, int64_t nowUs);
    void failed(const std::string& address, int64_t nowUs);

private:
    static constexpr size_t kMaxAddresses = 4096;  // beyond: the oldest entries are forgotten
    static constexpr int64_t kWindowUs = 60'000'000;
    void forgetOld(std::deque<int64_t>& failures, int64_t nowUs) const;

    int limit_;
    std::unordered_map<std::string, std::deque<int64_t>> failures_;
};

}  // namespace camrelay
