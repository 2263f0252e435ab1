#include "viewer_command.h"

#include "core/json_input.h"

#include <glib.h>

#include <algorithm>
#include <cmath>

namespace camrelay {

namespace {

// Commands are flat: {"type":..,"data":{..}}. A little room for clients that add their own fields.
constexpr JsonInputLimits kLimits{kMaxViewerMessage, 8};

ViewerCommandParse failure(std::string code, std::string reason) {
    ViewerCommandParse p;
    p.code = std::move(code);
    p.reason = std::move(reason);
    return p;
}

}  // namespace

std::string quoteClientText(const std::string& text, size_t maxBytes) {
    std::string_view shown(text.data(), std::min(text.size(), maxBytes));
    const char* end = nullptr;
    if (!g_utf8_validate(shown.data(), gssize(shown.size()), &end)) shown = shown.substr(0, size_t(end - shown.data()));
    std::string out(shown);
    if (shown.size() < text.size()) out += "...";
    return out;
}

ViewerCommandParse parseViewerCommand(const std::string& text, bool multi) {
    using Member = JsonObjectView::Member;
    const JsonInput input(text, kLimits);
    const JsonObjectView message = input.rootObject();
    if (!message)
        return failure("bad_json", "messages are JSON objects like {\"type\":\"set\",\"data\":{\"fps\":5}}" +
                                       (input.ok() ? std::string() : " (" + input.error() + ")"));
    std::string type;
    const Member typeRead = message.string("type", &type);
    if (typeRead == Member::WrongType) return failure("bad_message", "type must be a string");
    JsonObjectView data;
    if (message.object("data", &data) == Member::WrongType) return failure("bad_message", "data must be an object");

    ViewerCommand command;
    if (type == "ping") command.type = ViewerCommandType::Ping;
    else if (type == "set") command.type = ViewerCommandType::Set;
    else if (type == "subscribe" && multi) command.type = ViewerCommandType::Subscribe;
    else if (type == "unsubscribe" && multi) command.type = ViewerCommandType::Unsubscribe;
    else if (type == "subscribe" || type == "unsubscribe")
        return failure("unknown_type", "this socket shows one camera; use /api/ws for several");
    else
        return failure("unknown_type", "unknown message type \"" + quoteClientText(type) + "\" (expected " +
                                           (multi ? "subscribe, unsubscribe, set or ping)" : "set or ping)"));
    if (command.type == ViewerCommandType::Ping) return {command, {}, {}};

    switch (data.number("fps", &command.fps)) {
    case Member::Missing: command.fps = 0; break;
    case Member::WrongType: command.fps = std::nan(""); break;
    case Member::Ok: break;
    }
    if (command.type != ViewerCommandType::Unsubscribe &&
        !(std::isfinite(command.fps) && command.fps >= 0 && command.fps <= kMaxViewerFps))
        return failure("bad_fps", "fps must be a number from 0 (every frame) to 240");
    if (data.string("camera", &command.camera) == Member::WrongType)
        return failure("bad_message", "data.camera must be a string (a camera id)");
    return {command, {}, {}};
}

}  // namespace camrelay
