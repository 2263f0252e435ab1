#include "json_message.h"

#include "core/gobject_ptr.h"

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
    GUniquePtr<gchar> owned(json_to_string(root, FALSE));
    json_node_unref(root);
    const char* out = owned.get();
    // json-glib 1.6 writes control characters other than \b\f\n\r\t raw
    // (0x1F from a client's text would make the message invalid JSON). In
    // compact output such a byte can only be inside a string: escape it.
    std::string text;
    for (const char* p = out; *p; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (c < 0x20) {
            char escaped[8];
            g_snprintf(escaped, sizeof escaped, "\\u%04x", c);
            text += escaped;
        } else {
            text += char(c);
        }
    }
    return text;
}

}  // namespace camrelay
