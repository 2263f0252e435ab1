#include "json_query.h"

#include "core/gobject_ptr.h"

#include <stdexcept>

namespace camrelay::testing {

namespace {
// The single node the path matches (a copy).
GUniquePtr<JsonNode> query(const std::string& text, const std::string& path) {
    GRef<JsonParser> parser = GRef<JsonParser>::adopt(json_parser_new());
    // An empty text parses with no root: not JSON either (json-glib would warn on the NULL node).
    if (!json_parser_load_from_data(parser.get(), text.c_str(), gssize(text.size()), nullptr) ||
        !json_parser_get_root(parser.get()))
        throw std::runtime_error("not JSON: '" + text.substr(0, 200) + "'");
    GError* raw = nullptr;
    GUniquePtr<JsonNode> matches(json_path_query(path.c_str(), json_parser_get_root(parser.get()), &raw));
    GUniquePtr<GError> error(raw);
    if (!matches || error) throw std::runtime_error("bad JSONPath " + path);
    JsonArray* array = json_node_get_array(matches.get());
    if (json_array_get_length(array) == 0) throw std::runtime_error(path + " matches nothing in " + text.substr(0, 300));
    return GUniquePtr<JsonNode>(json_node_copy(json_array_get_element(array, 0)));
}
}  // namespace

bool isJsonObject(const std::string& text) {
    GRef<JsonParser> parser = GRef<JsonParser>::adopt(json_parser_new());
    if (!json_parser_load_from_data(parser.get(), text.c_str(), gssize(text.size()), nullptr)) return false;
    JsonNode* root = json_parser_get_root(parser.get());  // NULL for an empty text
    return root && JSON_NODE_HOLDS_OBJECT(root);
}

std::string jsonString(const std::string& text, const std::string& path) {
    auto node = query(text, path);
    if (!JSON_NODE_HOLDS_VALUE(node.get()) || json_node_get_value_type(node.get()) != G_TYPE_STRING)
        throw std::runtime_error(path + " is not a string in " + text.substr(0, 300));
    return json_node_get_string(node.get());
}

double jsonNumber(const std::string& text, const std::string& path) {
    auto node = query(text, path);
    if (!JSON_NODE_HOLDS_VALUE(node.get())) throw std::runtime_error(path + " is not a number");
    GType type = json_node_get_value_type(node.get());
    if (type == G_TYPE_INT64) return double(json_node_get_int(node.get()));
    if (type == G_TYPE_DOUBLE) return json_node_get_double(node.get());
    throw std::runtime_error(path + " is not a number in " + text.substr(0, 300));
}

bool jsonBool(const std::string& text, const std::string& path) {
    auto node = query(text, path);
    if (!JSON_NODE_HOLDS_VALUE(node.get()) || json_node_get_value_type(node.get()) != G_TYPE_BOOLEAN)
        throw std::runtime_error(path + " is not a boolean in " + text.substr(0, 300));
    return json_node_get_boolean(node.get());
}

bool jsonIsNull(const std::string& text, const std::string& path) { return JSON_NODE_HOLDS_NULL(query(text, path).get()); }

size_t jsonArrayLength(const std::string& text, const std::string& path) {
    auto node = query(text, path);
    if (!JSON_NODE_HOLDS_ARRAY(node.get())) throw std::runtime_error(path + " is not an array");
    return json_array_get_length(json_node_get_array(node.get()));
}

}  // namespace camrelay::testing
