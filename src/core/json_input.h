#pragma once
// JSON that comes from clients (WebSocket messages, published frames),
// parsed with limits and read with checked access.
//
// Why not json-glib directly: its parser is recursive (200,000 nested '['
// overflow the stack), json_object_get_*_member() return NULL or 0 for a
// member of another type (a NULL reached strcmp), and a parser that is not
// unreffed on every path (an exception between new and unref) leaks the whole
// document. So: a cheap nesting scan BEFORE json-glib sees the text, an RAII
// owner for the parser, and getters that check the member's node type.
// Thread affinity: any thread (one instance per message).
#include "core/gobject_ptr.h"

#include <json-glib/json-glib.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace camrelay {

struct JsonInputLimits {
    size_t maxBytes = 64 * 1024;
    int maxDepth = 16;  // arrays and objects nested in each other
};

// The deepest nesting of arrays/objects in text (brackets inside strings do
// not count), or maxDepth + 1 as soon as it goes deeper: linear time, no
// recursion, no allocation. It does not validate; json-glib does that after.
int jsonNestingDepth(std::string_view text, int maxDepth);

// A read-only view of one JSON object whose getters check types: a member of
// the wrong type is reported as such, never as a NULL or a 0.
class JsonObjectView {
public:
    enum class Member { Missing, WrongType, Ok };

    JsonObjectView() = default;
    explicit JsonObjectView(JsonObject* object) : object_(object) {}
    explicit operator bool() const { return object_ != nullptr; }

    bool has(const char* key) const;
    // Each returns Missing, WrongType or Ok, and sets *out only when Ok.
    Member string(const char* key, std::string* out) const;
    // JSON numbers (integer or not); booleans and strings are WrongType.
    Member number(const char* key, double* out) const;
    Member boolean(const char* key, bool* out) const;
    Member object(const char* key, JsonObjectView* out) const;

private:
    JsonNode* member(const char* key) const;
    JsonObject* object_ = nullptr;
};

// One parsed client document. Owns the parser (and so every node).
class JsonInput {
public:
    // Refuses text over limits.maxBytes or nested deeper than limits.maxDepth
    // before json-glib runs; ok() false then, with error() saying why.
    JsonInput(const std::string& text, const JsonInputLimits& limits);

    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    JsonNode* root() const;
    // The root object, or an empty view when the root is something else.
    JsonObjectView rootObject() const;

private:
    GRef<JsonParser> parser_;
    std::string error_;
};

}  // namespace camrelay
