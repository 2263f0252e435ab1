#include "json_text.h"

#include "core/gobject_ptr.h"

namespace camrelay {

namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one.
// GLib's validator rejects overlong forms, surrogates and code points past U+10FFFF.
size_t validSequenceLength(const char* p, size_t left) {
    const auto lead = static_cast<unsigned char>(*p);
    if (lead < 0x80) return 1;
    const size_t length = g_utf8_skip[lead];
    if (length < 2 || length > 4 || length > left) return 0;
    return g_utf8_validate_len(p, length, nullptr) ? length : 0;
}

// Appends the UTF-8 sequence at in[i], or U+FFFD for a byte that starts none; returns the bytes used.
size_t appendValidSequence(std::string& out, std::string_view in, size_t i) {
    if (const size_t length = validSequenceLength(in.data() + i, in.size() - i)) {
        out.append(in.data() + i, length);
        return length;
    }
    out += kReplacement;
    return 1;
}

}  // namespace

std::string makeJsonTextValid(std::string_view in) {
    std::string out;
    out.reserve(in.size() + 16);
    bool inString = false;
    for (size_t i = 0; i < in.size();) {
        const auto c = static_cast<unsigned char>(in[i]);
        if (!inString) {
            if (c == '"') inString = true;
            out += char(c);
            ++i;
            continue;
        }
        if (c == '"') {
            inString = false;
            out += char(c);
            ++i;
        } else if (c == '\\' && i + 1 < in.size()) {  // the generator's own escape: keep both bytes
            out.append(in.data() + i, 2);
            i += 2;
        } else if (c < 0x20 || c == 0x7f) {
            char escaped[8];
            g_snprintf(escaped, sizeof escaped, "\\u%04x", c);
            out += escaped;
            ++i;
        } else if (c < 0x80) {
            out += char(c);
            ++i;
        } else {
            i += appendValidSequence(out, in, i);
        }
    }
    return out;
}

std::string jsonNodeToText(JsonNode* node) {
    GUniquePtr<gchar> text(json_to_string(node, FALSE));
    return makeJsonTextValid(text ? text.get() : "null");
}

}  // namespace camrelay
