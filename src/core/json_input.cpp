#include "json_input.h"

namespace camrelay {

int jsonNestingDepth(std::string_view text, int maxDepth) {
    int depth = 0, deepest = 0;
    bool inString = false, escaped = false;
    for (char c : text) {
        if (inString) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') inString = false;
            continue;
        }
        switch (c) {
        case '"': inString = true; break;
        case '[':
        case '{':
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > maxDepth) return maxDepth + 1;
            }
            break;
        case ']':
        case '}':
            if (depth > 0) --depth;  // unbalanced text is json-glib's to refuse
            break;
        default: break;
        }
    }
    return deepest;
}

JsonNode* JsonObjectView::member(const char* key) const {
    return object_ && json_object_has_member(object_, key) ? json_object_get_member(object_, key) : nullptr;
}

bool JsonObjectView::has(const char* key) const { return member(key) != nullptr; }

JsonObjectView::Member JsonObjectView::string(const char* key, std::string* out) const {
    JsonNode* n = member(key);
    if (!n) return Member::Missing;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) return Member::WrongType;
    const char* s = json_node_get_string(n);
    if (!s) return Member::WrongType;
    *out = s;
    return Member::Ok;
}

JsonObjectView::Member JsonObjectView::number(const char* key, double* out) const {
    JsonNode* n = member(key);
    if (!n) return Member::Missing;
    if (!JSON_NODE_HOLDS_VALUE(n)) return Member::WrongType;
    const GType t = json_node_get_value_type(n);
    if (t == G_TYPE_INT64) *out = double(json_node_get_int(n));
    else if (t == G_TYPE_DOUBLE) *out = json_node_get_double(n);
    else return Member::WrongType;
    return Member::Ok;
}

JsonObjectView::Member JsonObjectView::boolean(const char* key, bool* out) const {
    JsonNode* n = member(key);
    if (!n) return Member::Missing;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN) return Member::WrongType;
    *out = json_node_get_boolean(n);
    return Member::Ok;
}

JsonObjectView::Member JsonObjectView::object(const char* key, JsonObjectView* out) const {
    JsonNode* n = member(key);
    if (!n) return Member::Missing;
    if (!JSON_NODE_HOLDS_OBJECT(n)) return Member::WrongType;
    *out = JsonObjectView(json_node_get_object(n));
    return Member::Ok;
}

JsonInput::JsonInput(const std::string& text, const JsonInputLimits& limits) {
    if (text.size() > limits.maxBytes) {
        error_ = "message over " + std::to_string(limits.maxBytes) + " bytes";
        return;
    }
    if (jsonNestingDepth(text, limits.maxDepth) > limits.maxDepth) {
        error_ = "nested deeper than " + std::to_string(limits.maxDepth) + " levels";
        return;
    }
    parser_ = GRef<JsonParser>::adopt(json_parser_new_immutable());
    GError* raw = nullptr;
    // Explicit length: an embedded NUL is json-glib's to refuse (std::string is NUL-terminated).
    const bool parsed = json_parser_load_from_data(parser_.get(), text.data(), gssize(text.size()), &raw);
    GUniquePtr<GError> error(raw);
    if (!parsed) error_ = error && error->message ? error->message : "not JSON";
    else if (!json_parser_get_root(parser_.get())) error_ = "empty document";
}

JsonNode* JsonInput::root() const { return ok() && parser_ ? json_parser_get_root(parser_.get()) : nullptr; }

JsonObjectView JsonInput::rootObject() const {
    JsonNode* r = root();
    return r && JSON_NODE_HOLDS_OBJECT(r) ? JsonObjectView(json_node_get_object(r)) : JsonObjectView();
}

}  // namespace camrelay
