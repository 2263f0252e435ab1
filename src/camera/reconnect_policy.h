#pragma once
// Exponential backoff between reconnect attempts: initial, 2x, 4x ... capped.
// Thread affinity: any thread (pure).
#include <algorithm>

namespace camrelay {

// attempt: 1 for the first retry after a loss.
inline int reconnectDelaySec(int attempt, int initialSec, int maxSec) {
    long long delay = initialSec;
    for (int i = 1; i < attempt && delay < maxSec; ++i) delay *= 2;
    return int(std::min<long long>(delay, maxSec));
}

}  // namespace camrelay
