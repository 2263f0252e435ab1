#pragma once
// The JSON frame message a publisher may send instead of a binary frame:
//   {"type":"frame","data":{"frame":"<base64 JPEG>"}}
// Text in, the decoded bytes or a reason out, with no socket, so the parser
// can be fuzzed on its own (fuzz/fuzz_client_json.cpp). The JPEG itself is
// checked afterwards by inspectJpeg().
// Thread affinity: any thread (pure function).
#include <optional>
#include <string>

namespace camrelay {

inline constexpr size_t kMaxPublishMessage = 16 * 1024 * 1024;

struct PublishMessageParse {
    std::optional<std::string> jpeg;  // the decoded frame bytes (not yet inspected)
    std::string code;                 // when !jpeg: bad_message
    std::string reason;
};

PublishMessageParse parsePublishMessage(const std::string& text);

}  // namespace camrelay
