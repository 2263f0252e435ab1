#include "websocket_hub.h"

#include "core/log.h"
#include "core/fd_watch_set.h"
#include "outputs/json_message.h"
#include "outputs/viewer_command.h"
#include "outputs/websocket_protocol.h"
#include "outputs/websocket_send.h"

#include <cstring>
#include <cmath>

#define GST_CAT_DEFAULT camrelay_output_debug

namespace camrelay {

namespace {


using Bytes = ViewerSockets::Bytes;

Bytes shared(std::string bytes) { return std::make_shared<const std::string>(std::move(bytes)); }

void putBigEndian(std::string& out, uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(char((value >> shift) & 0xff));
}

}  // namespace

// One camera as the hub sees it: its latest frame's messages, built on demand.
struct WebSocketHub::Feed {
    CameraPtr camera;
    int key = 0;           // its stream key in ViewerSockets (newest wins per camera)
    FramePtr frame;        // the frame the cached messages belong to
    Bytes json, binary;    // WebSocket-framed, shared by every viewer
    Connection frames, states;
    size_t viewers = 0;
    StreamTallyPtr tally = std::make_shared<StreamTally>();  // this camera's frames (/metrics)

    const Bytes& message(WsFrameFormat format) {
        Bytes& slot = format == WsFrameFormat::Json ? json : binary;
        if (!slot)
            slot = shared(format == WsFrameFormat::Json
                              ? websocketFrame(WsOpcode::Text, buildJsonFrame(*frame, camera->id(), camera->config().quality))
                              : websocketFrame(WsOpcode::Binary, buildBinaryFrame(*frame, camera->id())));
        return slot;
    }
};

struct WebSocketHub::ClientState {
    struct Subscription {
        FpsThinner thinner;
        Camera::Demand demand;  // an on-demand camera runs while subscribed
    };
    bool multi = false;                       // /api/ws
    WsFrameFormat format = WsFrameFormat::Json;
    WsReader reader{kMaxViewerMessage};
    std::map<std::string, Subscription> subscriptions;
};

std::string WebSocketHub::buildBinaryFrame(const Frame& frame, const std::string& cameraId) {
    std::string out;
    const std::string_view jpeg = frame.jpeg();
    out.reserve(24 + cameraId.size() + jpeg.size());
    out += "CRF1";
    out.push_back(char(24 + cameraId.size()));        // header length
    out.push_back(char(frame.isPlaceholder() ? 1 : 0));  // flags
    out.push_back(char(cameraId.size()));
    out.push_back('\0');
    putBigEndian(out, frame.number());
    putBigEndian(out, uint64_t(frame.captureUnixUs()));
    out += cameraId;
    out.append(jpeg.data(), jpeg.size());
    return out;
}

std::string WebSocketHub::buildJsonFrame(const Frame& frame, const std::string& cameraId, int quality) {
    const std::string_view jpeg = frame.jpeg();
    gchar* base64 = g_base64_encode(reinterpret_cast<const guchar*>(jpeg.data()), jpeg.size());
    // Camera ids are [A-Za-z0-9_-]: no escaping needed, and base64 never needs it.
    std::string out;
    out.reserve(strlen(base64) + 160);
    out += "{\"type\":\"frame\",\"data\":{\"stream_id\":\"" + cameraId + "\",\"timestamp\":" +
           std::to_string(frame.captureUnixUs() / 1000) + ",\"frame\":\"";
    out += base64;
    out += "\",\"frame_number\":" + std::to_string(frame.number()) + ",\"quality\":" + std::to_string(quality);
    if (frame.isPlaceholder()) out += ",\"offline\":true";
    out += "}}";
    g_free(base64);
    return out;
}

WebSocketHub::WebSocketHub(int clientTimeoutSec)
    : sockets_(clientTimeoutSec, [this](Client& c, std::string_view data) { onInput(c, data); },
               [this](Client& c) {
                   auto* state = static_cast<ClientState*>(c.state.get());
                   for (auto& [id, subscription] : state->subscriptions)
                       if (auto feed = feeds_.find(id); feed != feeds_.end()) --feed->second->viewers;
                   state->subscriptions.clear();
               },
               "WebSocket viewers") {}

void WebSocketHub::attach(const CameraPtr& camera) {
    auto feed = std::make_unique<Feed>();
    feed->camera = camera;
    feed->key = nextKey_++;
    Feed* f = feed.get();
    feed->frames = camera->onFrame([this, f](const FramePtr& frame) { onFrame(*f, frame); });
    feed->states = camera->onStateChanged([this, f](CameraState) { onState(*f); });
    feeds_[camera->id()] = std::move(feed);
}

void WebSocketHub::detach(const std::string& cameraId) {
    auto it = feeds_.find(cameraId);
    if (it == feeds_.end()) return;
    const std::string removed =
        JsonMessage("state").add("camera", cameraId).add("state", std::string("removed")).addNull("error").text();
    sockets_.forEach([&](Client& client) {
        auto& state = *static_cast<ClientState*>(client.state.get());
        if (!state.subscriptions.erase(cameraId)) return;  // its claim on the camera goes here
        sendWsText(sockets_, client, removed);
        if (!state.multi) closeWs(sockets_, client, kWsGoingAway, "camera " + cameraId + " was removed");
    });
    feeds_.erase(it);
}

WebSocketHub::~WebSocketHub() = default;

size_t WebSocketHub::viewers(const std::string& cameraId) const {
    auto it = feeds_.find(cameraId);
    return it == feeds_.end() ? 0 : it->second->viewers;
}

StreamTally WebSocketHub::cameraTally(const std::string& cameraId) const {
    auto it = feeds_.find(cameraId);
    return it == feeds_.end() ? StreamTally{} : *it->second->tally;
}

void WebSocketHub::addCameraViewer(GRef<GIOStream> connection, GRef<GSocket> socket, const std::string& handshake,
                                   Camera& camera, WsViewerOptions options) {
    Client& client = sockets_.add(std::move(connection), std::move(socket));
    auto state = std::make_shared<ClientState>();
    state->format = options.format;
    client.state = state;
    sockets_.sendControl(client, shared(handshake));
    sendWsText(sockets_, client, streamInfo(camera));
    subscribe(client, *state, camera.id(), options.maxFps);
    sockets_.sweep();
}

void WebSocketHub::addMultiViewer(GRef<GIOStream> connection, GRef<GSocket> socket, const std::string& handshake,
                                  WsFrameFormat format) {
    Client& client = sockets_.add(std::move(connection), std::move(socket));
    auto state = std::make_shared<ClientState>();
    state->multi = true;
    state->format = format;  // both formats name the camera of every frame
    client.state = state;
    sockets_.sendControl(client, shared(handshake));
    JsonMessage hello("hello");
    hello.add("format", std::string(format == WsFrameFormat::Json ? "json" : "binary"));
    sendWsText(sockets_, client, hello.text());
    sockets_.sweep();
}

void WebSocketHub::subscribe(Client& client, ClientState& state, const std::string& cameraId, double fps) {
    Feed& feed = *feeds_.at(cameraId);
    auto [it, added] = state.subscriptions.try_emplace(cameraId);
    it->second.thinner.setMaxFps(fps);
    if (added) {
        ++feed.viewers;
        it->second.demand = feed.camera->demand();
    }
    if (state.multi) {
        // The name too: a client showing many cameras labels them as the dashboard does.
        sendWsText(sockets_, client,
                   JsonMessage("subscribed").add("camera", cameraId).add("name", feed.camera->config().name)
                       .add("fps", fps).text());
        sendWsText(sockets_, client, stateMessage(*feed.camera));
    }
    // A new viewer sees the latest frame at once, not after the next capture.
    if (FramePtr latest = feed.camera->latestFrame(); latest && added) {
        if (feed.frame != latest) {
            feed.frame = latest;
            feed.json.reset();
            feed.binary.reset();
        }
        it->second.thinner.due(latest->captureUnixUs());
        sockets_.offerFrame(client, feed.key, feed.message(state.format), feed.tally);
    }
}

void WebSocketHub::onFrame(Feed& feed, const FramePtr& frame) {
    feed.frame = frame;
    feed.json.reset();
    feed.binary.reset();
    if (!feed.viewers) return;
    const std::string& id = feed.camera->id();
    sockets_.forEach([&](Client& client) {
        auto& state = *static_cast<ClientState*>(client.state.get());
        auto sub = state.subscriptions.find(id);
        if (sub == state.subscriptions.end() || !sub->second.thinner.due(frame->captureUnixUs())) return;
        sockets_.offerFrame(client, feed.key, feed.message(state.format), feed.tally);
    });
}

void WebSocketHub::onState(Feed& feed) {
    if (!feed.viewers) return;
    const std::string text = stateMessage(*feed.camera);
    sockets_.forEach([&](Client& client) {
        auto& state = *static_cast<ClientState*>(client.state.get());
        if (state.subscriptions.count(feed.camera->id())) sendWsText(sockets_, client, text);
    });
}

void WebSocketHub::onInput(Client& client, std::string_view data) {
    auto& state = *static_cast<ClientState*>(client.state.get());
    try {
        std::vector<WsMessage> messages;
        const bool ok = state.reader.feed(data, messages);
        for (auto& m : messages) {
            switch (m.opcode) {
            case WsOpcode::Text: onMessage(client, state, m.payload); break;
            case WsOpcode::Binary:
                sendWsError(sockets_, client, "unsupported", "viewers send JSON text messages only");
                break;
            case WsOpcode::Ping: sendWsPong(sockets_, client, m.payload); break;
            case WsOpcode::Pong: break;
            case WsOpcode::Close: closeWs(sockets_, client, kWsNormalClosure, "bye"); return;
            default: break;
            }
        }
        if (!ok) {
            GST_INFO("closing WebSocket viewer %s: %s", client.peer.c_str(), state.reader.error().c_str());
            logWarning("", "closing WebSocket viewer " + client.peer + ": " + state.reader.error());
            closeWs(sockets_, client, state.reader.closeCode(), state.reader.error());
        }
    } catch (...) {
        // Whatever this client's input made us throw closes this client, and says so.
        const std::string what = currentExceptionText();
        GST_ERROR("WebSocket viewer %s: %s; closing it with 1011", client.peer.c_str(), what.c_str());
        logWarning("", "closing WebSocket viewer " + client.peer + " after an internal error: " + what);
        closeWs(sockets_, client, kWsInternalError, "internal error");
    }
}

bool WebSocketHub::admits(const std::string& cameraId) const {
    return !admission_ || admission_(cameraId);
}

void WebSocketHub::onMessage(Client& client, ClientState& state, const std::string& text) {
    const ViewerCommandParse parse = parseViewerCommand(text, state.multi);
    if (!parse.command) return sendWsError(sockets_, client, parse.code, parse.reason);
    const ViewerCommand& command = *parse.command;
    std::string camera = command.camera;
    if (!state.multi && camera.empty() && !state.subscriptions.empty()) camera = state.subscriptions.begin()->first;

    switch (command.type) {
    case ViewerCommandType::Ping:
        sendWsText(sockets_, client, JsonMessage("pong").text());
        break;
    case ViewerCommandType::Set:
    case ViewerCommandType::Subscribe:
        if (!feeds_.count(camera)) {
            sendWsError(sockets_, client, "unknown_camera", "no camera \"" + quoteClientText(camera) + "\"");
        } else if (command.type == ViewerCommandType::Set) {
            if (!state.subscriptions.count(camera)) {
                sendWsError(sockets_, client, "not_subscribed", "subscribe to \"" + camera + "\" first");
            } else {
                state.subscriptions[camera].thinner.setMaxFps(command.fps);
                sendWsText(sockets_, client, JsonMessage("ok").add("camera", camera).add("fps", command.fps).text());
            }
        } else if (!state.subscriptions.count(camera) && !admits(camera)) {
            // The same limit as MJPEG and per-camera WebSocket viewers: a
            // subscription costs the camera as much as a viewer does.
            GST_INFO("refused a subscription of %s to %s: viewer limit", client.peer.c_str(), camera.c_str());
            sendWsError(sockets_, client, "too_many_viewers",
                        "camera " + camera + " already has as many viewers as it may (limits.max-viewers-per-camera)");
        } else {
            subscribe(client, state, camera, command.fps);
        }
        break;
    case ViewerCommandType::Unsubscribe:
        if (state.subscriptions.erase(camera)) {
            if (auto feed = feeds_.find(camera); feed != feeds_.end()) --feed->second->viewers;
            sendWsText(sockets_, client, JsonMessage("unsubscribed").add("camera", camera).text());
        } else {
            sendWsError(sockets_, client, "not_subscribed", "not subscribed to \"" + quoteClientText(camera) + "\"");
        }
        break;
    }
}


std::string WebSocketHub::streamInfo(const Camera& camera) const {
    const CameraStats s = camera.stats();
    JsonMessage info("stream_info");
    info.add("stream_id", camera.id()).add("name", camera.config().name);
    info.add("width", int64_t(s.width ? s.width : camera.config().width));
    info.add("height", int64_t(s.height ? s.height : camera.config().height));
    // The configured rate when there is one (the measured one jitters), else the measured one.
    info.add("fps", camera.config().framerate.isSet() ? camera.config().framerate.value() : std::round(s.fps));
    info.add("quality", int64_t(camera.config().quality)).add("state", std::string(toString(camera.state())));
    return info.text();
}

std::string WebSocketHub::stateMessage(const Camera& camera) const {
    JsonMessage m("state");
    m.add("camera", camera.id()).add("state", std::string(toString(camera.state())));
    const bool down = camera.recovering() || camera.state() == CameraState::Failed;
    if (down && !camera.lastError().empty()) m.add("error", camera.lastError());
    else m.addNull("error");
    return m.text();
}

}  // namespace camrelay
