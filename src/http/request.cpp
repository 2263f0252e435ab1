#include "request.h"

#include <cerrno>
#include <cstdlib>

namespace camrelay {

bool methodIs(SoupServerMessage* msg, const char* method) {
    return g_str_equal(soup_server_message_get_method(msg), method);
}

bool isRead(SoupServerMessage* msg) { return methodIs(msg, "GET") || methodIs(msg, "HEAD"); }

std::string requestBody(SoupServerMessage* msg) {
    GBytes* bytes = soup_message_body_flatten(soup_server_message_get_request_body(msg));
    gsize size = 0;
    const char* data = static_cast<const char*>(g_bytes_get_data(bytes, &size));
    std::string text(data ? data : "", size);
    g_bytes_unref(bytes);
    return text;
}

const char* queryValue(GHashTable* query, const char* key) {
    return query ? static_cast<const char*>(g_hash_table_lookup(query, key)) : nullptr;
}

std::optional<uint64_t> parseCount(const char* text, uint64_t max) {
    if (!text || !g_ascii_isdigit(*text)) return std::nullopt;
    guint64 value = 0;
    if (!g_ascii_string_to_unsigned(text, 10, 0, max, &value, nullptr)) return std::nullopt;
    return value;
}

}  // namespace camrelay
