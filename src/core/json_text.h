#pragma once
// JSON text every parser accepts, whatever strings went into it.
//
// json-glib 1.6.6 (Debian 12) escapes only " \ \b \f \n \r \t and DEL when it
// writes a string: other control characters (0x00-0x1F) and invalid UTF-8
// are copied through as raw bytes, which makes the whole document invalid
// JSON for browsers and Python. Strings that reach us come from cameras
// (HTTP status lines, GStreamer error texts), camera files and clients, so
// any of them may hold such bytes.
//
// The fix is applied once, to the generator's output, rather than to every
// string on its way into a builder: one choke point covers member names and
// values alike, callers cannot forget it, and nothing is lost (0x1F shows as
// \u001f rather than disappearing). It relies on the generator escaping
// '"' and '\' byte by byte, which 1.6.6 does even next to invalid UTF-8.
// Thread affinity: any thread (pure functions).
#include <json-glib/json-glib.h>

#include <string>
#include <string_view>

namespace camrelay {

// Generated JSON text (compact or pretty) made valid: inside strings, every
// control character (0x00-0x1F, 0x7F) becomes \u00XX and every byte that is
// not part of a valid UTF-8 sequence becomes U+FFFD. Text outside strings is
// left alone.
std::string makeJsonTextValid(std::string_view generated);

// json_to_string(node, FALSE) followed by makeJsonTextValid(): use this
// instead of json_to_string / json_generator_to_data everywhere JSON leaves
// the service.
std::string jsonNodeToText(JsonNode* node);

}  // namespace camrelay
