#include "push_ingest.h"

#include "camera/jpeg_info.h"
#include "core/log.h"
#include "outputs/json_message.h"
#include "outputs/websocket_protocol.h"
#include "outputs/websocket_send.h"

#include <json-glib/json-glib.h>

namespace camrelay {

namespace {

ViewerSockets::Bytes shared(std::string bytes) { return std::make_shared<const std::string>(std::move(bytes)); }

// The base64 JPEG of a JSON frame message; empty with why on failure.
std::string jpegFromJson(const std::string& text, std::string* why) {
    JsonParser* parser = json_parser_new();
    std::string out;
    if (!json_parser_load_from_data(parser, text.c_str(), gssize(text.size()), nullptr)) {
        *why = "not JSON";
    } else {
        JsonNode* root = json_parser_get_root(parser);
        JsonObject* o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : nullptr;
        const char* type = o ? json_object_get_string_member_with_default(o, "type", "") : "";
        JsonObject* data = o && json_object_has_member(o, "data") && JSON_NODE_HOLDS_OBJECT(json_object_get_member(o, "data"))
                               ? json_object_get_object_member(o, "data") : nullptr;
        const char* frame = data ? json_object_get_string_member_with_default(data, "frame", "") : "";
        if (!g_str_equal(type, "frame") || !frame || !*frame) {
            *why = "expected {\"type\":\"frame\",\"data\":{\"frame\":\"<base64 JPEG>\"}}";
        } else {
            gsize size = 0;
            guchar* bytes = g_base64_decode(frame, &size);
            out.assign(reinterpret_cast<char*>(bytes), size);
            g_free(bytes);
            if (out.empty()) *why = "data.frame is not base64";
        }
    }
    g_object_unref(parser);
    return out;
}

}  // namespace

struct PushIngest::Publisher {
    Camera* camera = nullptr;
    bool active = false;  // false: a refused second publisher
    WsReader reader{kMaxFrame};
};

PushIngest::PushIngest(int clientTimeoutSec)
    : sockets_(clientTimeoutSec, [this](Client& c, std::string_view data) { onInput(c, data); },
               [](Client& c) {
                   auto* p = static_cast<Publisher*>(c.state.get());
                   if (p->active) p->camera->setPublisher(false);
                   p->active = false;
               }) {}

void PushIngest::addPublisher(GRef<GIOStream> connection, GRef<GSocket> socket, const std::string& handshake,
                              Camera& camera) {
    Client& client = sockets_.add(std::move(connection), std::move(socket));
    auto publisher = std::make_shared<Publisher>();
    publisher->camera = &camera;
    client.state = publisher;
    sockets_.sendControl(client, shared(handshake));
    if (camera.hasPublisher()) {
        logWarning(camera.id(), "refused a second publisher");
        closeWs(sockets_, client, kWsPolicyViolation, "camera " + camera.id() + " already has a publisher");
    } else {
        publisher->active = true;
        camera.setPublisher(true);
        sendWsText(sockets_, client, JsonMessage("ready").add("camera", camera.id()).text());
    }
    sockets_.sweep();
}

void PushIngest::onInput(Client& client, std::string_view data) {
    auto& publisher = *static_cast<Publisher*>(client.state.get());
    std::vector<WsMessage> messages;
    const bool ok = publisher.reader.feed(data, messages);
    for (auto& m : messages) {
        switch (m.opcode) {
        case WsOpcode::Binary: accept(client, publisher, std::move(m.payload)); break;
        case WsOpcode::Text: {
            std::string why;
            std::string jpeg = jpegFromJson(m.payload, &why);
            if (jpeg.empty()) {
                ++stats_.framesRejected;
                sendWsError(sockets_, client, "bad_message", why);
            } else {
                accept(client, publisher, std::move(jpeg));
            }
            break;
        }
        case WsOpcode::Ping: sendWsPong(sockets_, client, m.payload); break;
        case WsOpcode::Close: closeWs(sockets_, client, kWsNormalClosure, "bye"); return;
        default: break;
        }
    }
    if (!ok) closeWs(sockets_, client, publisher.reader.closeCode(), publisher.reader.error());
}

void PushIngest::accept(Client& client, Publisher& publisher, std::string jpeg) {
    if (!publisher.active) return;
    std::string why;
    if (!inspectJpeg(jpeg, &why)) {
        ++stats_.framesRejected;
        sendWsError(sockets_, client, "invalid_jpeg", why + " (" + std::to_string(jpeg.size()) + " bytes)");
        return;
    }
    const size_t size = jpeg.size();
    auto* owned = new std::string(std::move(jpeg));
    GRef<GstBuffer> buffer = GRef<GstBuffer>::adopt(gst_buffer_new_wrapped_full(
        GST_MEMORY_FLAG_READONLY, owned->data(), size, 0, size, owned,
        [](gpointer p) { delete static_cast<std::string*>(p); }));
    if (publisher.camera->pushJpeg(std::move(buffer))) ++stats_.framesAccepted;
    else sendWsError(sockets_, client, "not_running", "camera " + publisher.camera->id() + " is " + toString(publisher.camera->state()));
}


}  // namespace camrelay
