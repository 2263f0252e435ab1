#include "login_limiter.h"

namespace camrelay {

void LoginLimiter::forgetOld(std::deque<int64_t>& failures, int64_t nowUs) const {
    while (!failures.empty() && failures.front() <= nowUs - kWindowUs) failures.pop_front();
}

int LoginLimiter::retryAfterSec(const std::string& address, int64_t nowUs) {
    auto it = failures_.find(address);
    if (it == failures_.end()) return 0;
    forgetOld(it->second, nowUs);
    if (it->second.empty()) {
        failures_.erase(it);
        return 0;
    }
    if (int(it->second.size()) < limit_) return 0;
    return int((it->second.front() + kWindowUs - nowUs) / 1'000'000) + 1;
}

void LoginLimiter::failed(const std::string& address, int64_t nowUs) {
    if (failures_.size() >= kMaxAddresses && !failures_.count(address)) {
        // Drop every address whose failures are all old; if none, start over (an
        // attacker with thousands of addresses is not slowed per address anyway).
        for (auto it = failures_.begin(); it != failures_.end();) {
            forgetOld(it->second, nowUs);
            it = it->second.empty() ? failures_.erase(it) : std::next(it);
        }
        if (failures_.size() >= kMaxAddresses) failures_.clear();
    }
    auto& list = failures_[address];
    list.push_back(nowUs);
    while (int(list.size()) > limit_) list.pop_front();
}

}  // namespace camrelay
