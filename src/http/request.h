#pragma once
// Small questions about an incoming request, shared by the route groups.
// Thread affinity: loop thread only.
#include <libsoup/soup.h>

#include <optional>
#include <string>

namespace camrelay {

bool methodIs(SoupServerMessage* msg, const char* method);
// GET or HEAD.
bool isRead(SoupServerMessage* msg);
// The request body as read (bounded by the gate's max-body-bytes); "" if none.
std::string requestBody(SoupServerMessage* msg);
// The query parameter, if present.
const char* queryValue(GHashTable* query, const char* key);
// A whole non-negative decimal number no larger than max; nullopt otherwise.
std::optional<uint64_t> parseCount(const char* text, uint64_t max);

}  // namespace camrelay
