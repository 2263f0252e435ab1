#pragma once
// Time helpers shared by cameras and outputs.
#include <glib.h>

#include <cstdint>
#include <string>

namespace camrelay {

// Unix time in microseconds (wall clock).
inline int64_t unixNowUs() { return g_get_real_time(); }
// Monotonic microseconds, for intervals and timeouts.
inline int64_t monotonicNowUs() { return g_get_monotonic_time(); }

// "1700000000.123456": Unix seconds with microseconds (X-Timestamp format).
std::string formatUnixSeconds(int64_t unixUs);
// "2026-11-21T06:23:35.123Z": UTC, milliseconds (event times).
std::string formatIsoTime(int64_t unixUs);

}  // namespace camrelay
