#include "json.h"

#include "core/gobject_ptr.h"
#include "core/json_text.h"

namespace camrelay {

JsonObjectValue::JsonObjectValue() : object_(json_object_new()) {}
JsonObjectValue::~JsonObjectValue() {
    if (object_) json_object_unref(object_);
}
JsonObjectValue::JsonObjectValue(JsonObjectValue&& o) noexcept : object_(std::exchange(o.object_, nullptr)) {}

JsonObjectValue& JsonObjectValue::set(const char* key, const std::string& value) {
    json_object_set_string_member(object_, key, value.c_str());
    return *this;
}
JsonObjectValue& JsonObjectValue::set(const char* key, const char* value) {
    if (value) json_object_set_string_member(object_, key, value);
    else json_object_set_null_member(object_, key);
    return *this;
}
JsonObjectValue& JsonObjectValue::set(const char* key, int64_t value) {
    json_object_set_int_member(object_, key, value);
    return *this;
}
JsonObjectValue& JsonObjectValue::set(const char* key, double value) {
    json_object_set_double_member(object_, key, value);
    return *this;
}
JsonObjectValue& JsonObjectValue::set(const char* key, bool value) {
    json_object_set_boolean_member(object_, key, value);
    return *this;
}
JsonObjectValue& JsonObjectValue::set(const char* key, JsonObjectValue value) {
    json_object_set_object_member(object_, key, value.release());
    return *this;
}
JsonObjectValue& JsonObjectValue::setNull(const char* key) {
    json_object_set_null_member(object_, key);
    return *this;
}
JsonObjectValue& JsonObjectValue::setEmptyArray(const char* key) {
    json_object_set_array_member(object_, key, json_array_new());
    return *this;
}
JsonObjectValue& JsonObjectValue::append(const char* key, JsonObjectValue value) {
    if (!json_object_has_member(object_, key)) setEmptyArray(key);
    json_array_add_object_element(json_object_get_array_member(object_, key), value.release());
    return *this;
}

JsonObject* JsonObjectValue::release() { return std::exchange(object_, nullptr); }

std::string JsonObjectValue::toString() const {
    GUniquePtr<JsonNode> node(json_node_new(JSON_NODE_OBJECT));
    json_node_set_object(node.get(), object_);
    return jsonNodeToText(node.get());  // valid JSON whatever the strings hold (see core/json_text.h)
}

void respondJson(SoupServerMessage* msg, guint status, const JsonObjectValue& body) {
    respondJsonText(msg, status, body.toString());
}

void respondJsonText(SoupServerMessage* msg, guint status, std::string text) {
    text += "\n";
    soup_server_message_set_status(msg, status, nullptr);
    SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(headers, "Cache-Control", "no-store");
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, text.data(), text.size());
}

void respondError(SoupServerMessage* msg, guint status, const std::string& code, const std::string& message) {
    JsonObjectValue body;
    body.set("error", code).set("message", message);
    respondJson(msg, status, body);
}

void respondMethodNotAllowed(SoupServerMessage* msg, const char* allow) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", allow);
    respondError(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
                 std::string(soup_server_message_get_method(msg)) + " is not allowed here; use " + allow);
}

}  // namespace camrelay
