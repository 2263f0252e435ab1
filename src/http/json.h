#pragma once
// JSON answers for the HTTP layer (json-glib underneath, its output made valid
// by core/json_text.h whatever the strings hold), and the error shape
//   {"error": "<code>", "message": "<human sentence>"}
// Thread affinity: JsonObjectValue any thread (one object per thread); the
// respond* functions loop thread only.
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <cstdint>
#include <optional>
#include <string>

namespace camrelay {

// A JSON object under construction. Owns its JsonObject.
class JsonObjectValue {
public:
    JsonObjectValue();
    ~JsonObjectValue();
    JsonObjectValue(JsonObjectValue&& o) noexcept;
    JsonObjectValue(const JsonObjectValue&) = delete;
    JsonObjectValue& operator=(const JsonObjectValue&) = delete;

    JsonObjectValue& set(const char* key, const std::string& value);
    JsonObjectValue& set(const char* key, const char* value);  // nullptr: null
    JsonObjectValue& set(const char* key, int64_t value);
    JsonObjectValue& set(const char* key, double value);
    JsonObjectValue& set(const char* key, bool value);
    JsonObjectValue& set(const char* key, JsonObjectValue value);
    JsonObjectValue& setNull(const char* key);
    JsonObjectValue& setEmptyArray(const char* key);
    JsonObjectValue& set(const char* key, int value) { return set(key, int64_t(value)); }
    JsonObjectValue& set(const char* key, uint64_t value) { return set(key, int64_t(value)); }
    // Adds value to the array member key (created on first use).
    JsonObjectValue& append(const char* key, JsonObjectValue value);

    JsonObject* release();
    std::string toString() const;

private:
    JsonObject* object_;
};


void respondJson(SoupServerMessage* msg, guint status, const JsonObjectValue& body);
// A JSON answer made elsewhere (JsonObjectValue::toString(), e.g. on a worker thread).
void respondJsonText(SoupServerMessage* msg, guint status, std::string text);
void respondError(SoupServerMessage* msg, guint status, const std::string& code, const std::string& message);
// 405 with the Allow header the client needs.
void respondMethodNotAllowed(SoupServerMessage* msg, const char* allow);

}  // namespace camrelay
