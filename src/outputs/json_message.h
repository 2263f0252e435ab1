#pragma once
// The text of a WebSocket control message, {"type": "...", "data": {...}},
// built with json-glib so names and messages are escaped properly.
// Thread affinity: any thread (one instance per message).
#include <json-glib/json-glib.h>

#include <cstdint>
#include <string>

namespace camrelay {

class JsonMessage {
public:
    explicit JsonMessage(const char* type);
    ~JsonMessage();
    JsonMessage(const JsonMessage&) = delete;
    JsonMessage& operator=(const JsonMessage&) = delete;

    JsonMessage& add(const char* key, const std::string& value);
    JsonMessage& add(const char* key, double value);
    JsonMessage& add(const char* key, int64_t value);
    JsonMessage& addNull(const char* key);
    // Closes the message; call once.
    std::string text();

private:
    JsonBuilder* builder_;
};

}  // namespace camrelay
