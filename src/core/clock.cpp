#include "clock.h"

#include <cinttypes>
#include <cstdio>

namespace camrelay {

std::string formatUnixSeconds(int64_t unixUs) {
    char text[32];
    std::snprintf(text, sizeof text, "%" PRId64 ".%06" PRId64, unixUs / 1000000, unixUs % 1000000);
    return text;
}

std::string formatIsoTime(int64_t unixUs) {
    GDateTime* time = g_date_time_new_from_unix_utc(unixUs / 1000000);
    if (!time) return {};
    gchar* text = g_date_time_format(time, "%Y-%m-%dT%H:%M:%S");
    std::string out = text ? text : "";
    g_free(text);
    g_date_time_unref(time);
    char millis[8];
    std::snprintf(millis, sizeof millis, ".%03dZ", int(unixUs % 1000000 / 1000));
    return out + millis;
}

}  // namespace camrelay
