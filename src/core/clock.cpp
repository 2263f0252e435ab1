#include "clock.h"

#include <cinttypes>
#include <cstdio>

namespace camrelay {

std::string formatUnixSeconds(int64_t unixUs) {
    char text[32];
    std::snprintf(text, sizeof text, "%" PRId64 ".%06" PRId64, unixUs / 1000000, unixUs % 1000000);
    return text;
}

}  // namespace camrelay
