#include "json_message.h"

#include "core/json_text.h"

namespace camrelay {

JsonMessage::JsonMessage(const char* type) : builder_(json_builder_new()) {
    json_builder_begin_object(builder_);
    json_builder_set_member_name(builder_, "type");
    json_builder_add_string_value(builder_, type);
    json_builder_set_member_name(builder_, "data");
    json_builder_begin_object(builder_);
}

JsonMessage::~JsonMessage() { g_object_unref(builder_); }

JsonMessage& JsonMessage::add(const char* key, const std::string& value) {
    json_builder_set_member_name(builder_, key);
    json_builder_add_string_value(builder_, value.c_str());
    return *this;
}

JsonMessage& JsonMessage::add(const char* key, double value) {
    json_builder_set_member_name(builder_, key);
    json_builder_add_double_value(builder_, value);
    return *this;
}

JsonMessage& JsonMessage::add(const char* key, int64_t value) {
    json_builder_set_member_name(builder_, key);
    json_builder_add_int_value(builder_, value);
    return *this;
}

JsonMessage& JsonMessage::addNull(const char* key) {
    json_builder_set_member_name(builder_, key);
    json_builder_add_null_value(builder_);
    return *this;
}

std::string JsonMessage::text() {
    json_builder_end_object(builder_);
    json_builder_end_object(builder_);
    JsonNode* root = json_builder_get_root(builder_);
    // Valid whatever a client's or camera's text put in it (core/json_text.h).
    std::string text = jsonNodeToText(root);
    json_node_unref(root);
    return text;
}

}  // namespace camrelay
