#pragma once
// The JSON commands WebSocket viewers send, parsed without any socket:
//   /api/cameras/{id}/ws   {"type":"set","data":{"fps":5}}, {"type":"ping"}
//   /api/ws                also subscribe / unsubscribe with data.camera
// Text in, a typed command or an error code and reason out, so the parser can
// be fuzzed on its own (fuzz/fuzz_client_json.cpp). Wire format: docs/api.md.
// Thread affinity: any thread (pure functions).
#include <optional>
#include <string>

namespace camrelay {

enum class ViewerCommandType { Ping, Set, Subscribe, Unsubscribe };

struct ViewerCommand {
    ViewerCommandType type = ViewerCommandType::Ping;
    std::string camera;  // empty when the message named none
    double fps = 0;      // 0: every frame; checked to be 0..kMaxViewerFps
};

struct ViewerCommandParse {
    std::optional<ViewerCommand> command;
    std::string code;    // when !command: bad_json, bad_message, unknown_type, bad_fps
    std::string reason;  // a sentence for the client
};

inline constexpr double kMaxViewerFps = 240;
inline constexpr size_t kMaxViewerMessage = 64 * 1024;  // viewers send small JSON commands only

// multi: the /api/ws socket (subscribe and unsubscribe are allowed).
ViewerCommandParse parseViewerCommand(const std::string& text, bool multi);

// Client text quoted back in an error message, cut to a short, valid UTF-8 prefix.
std::string quoteClientText(const std::string& text, size_t maxBytes = 64);

}  // namespace camrelay
