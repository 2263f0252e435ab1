#include "push_ingest.h"

#include "camera/jpeg_info.h"
#include "core/clock.h"
#include "core/fd_watch_set.h"
#include "core/log.h"
#include "outputs/json_message.h"
#include "outputs/websocket_protocol.h"
#include "outputs/websocket_send.h"

#define GST_CAT_DEFAULT camrelay_output_debug

namespace camrelay {

namespace {

ViewerSockets::Bytes shared(std::string bytes) { return std::make_shared<const std::string>(std::move(bytes)); }

}  // namespace

struct PushIngest::Publisher {
    CameraPtr camera;
    bool active = false;  // false: a refused second publisher, or one already let go
    int64_t lastFrameUs = 0;  // the last valid frame (or the connection): the idle clock
    WsReader reader{kMaxFrame};
};

PushIngest::PushIngest(int clientTimeoutSec, int idleTimeoutSec)
    : idleTimeoutSec_(idleTimeoutSec),
      sockets_(clientTimeoutSec, [this](Client& c, std::string_view data) { onInput(c, data); },
               [this](Client& c) { release(*static_cast<Publisher*>(c.state.get())); },
               "publishers") {}

void PushIngest::release(Publisher& publisher) {
    if (publisher.active) publisher.camera->setPublisher(false);
    publisher.active = false;
}

void PushIngest::addPublisher(GRef<GIOStream> connection, GRef<GSocket> socket, const std::string& handshake,
                              CameraPtr cameraPtr) {
    Camera& camera = *cameraPtr;
    Client& client = sockets_.add(std::move(connection), std::move(socket));
    auto publisher = std::make_shared<Publisher>();
    publisher->camera = std::move(cameraPtr);
    publisher->lastFrameUs = monotonicNowUs();
    client.state = publisher;
    sockets_.sendControl(client, shared(handshake));
    if (camera.hasPublisher()) {
        logWarning(camera.id(), "refused a second publisher (" + client.peer + ")");
        closeWs(sockets_, client, kWsPolicyViolation, "camera " + camera.id() + " already has a publisher");
    } else {
        publisher->active = true;
        camera.setPublisher(true);
        sendWsText(sockets_, client, JsonMessage("ready").add("camera", camera.id()).text());
        if (!idleTimer_)
            idleTimer_ = SourceHandle(g_timeout_add(500, [](gpointer self) noexcept -> gboolean {
                try {
                    return static_cast<PushIngest*>(self)->checkIdle();
                } catch (...) {
                    logError("", "publishers: idle check failed: " + currentExceptionText());
                    return G_SOURCE_CONTINUE;
                }
            }, this));
    }
    sockets_.sweep();
}

void PushIngest::detach(const std::string& cameraId) {
    sockets_.forEach([&](Client& client) {
        auto& publisher = *static_cast<Publisher*>(client.state.get());
        if (!publisher.camera || publisher.camera->id() != cameraId) return;
        publisher.active = false;  // the camera is stopped already
        closeWs(sockets_, client, kWsGoingAway, "camera " + cameraId + " was removed");
    });
}

gboolean PushIngest::checkIdle() {
    const int64_t now = monotonicNowUs();
    const int64_t limitUs = int64_t(idleTimeoutSec_) * 1000000;
    bool anyActive = false;
    sockets_.forEach([&](Client& client) {
        auto& publisher = *static_cast<Publisher*>(client.state.get());
        if (!publisher.active) return;
        if (now - publisher.lastFrameUs <= limitUs) {
            anyActive = true;
            return;
        }
        ++stats_.idleClosed;
        const std::string why = "no valid frame for " + std::to_string(idleTimeoutSec_) + " s (limits.publish-idle-timeout)";
        logWarning(publisher.camera->id(), "closing publisher " + client.peer + ": " + why);
        // Free the slot now, not when the close handshake ends: the next publisher is welcome at once.
        release(publisher);
        closeWs(sockets_, client, kWsPolicyViolation, why);
    });
    if (anyActive) return G_SOURCE_CONTINUE;
    idleTimer_.forget();
    return G_SOURCE_REMOVE;
}

void PushIngest::onInput(Client& client, std::string_view data) {
    auto& publisher = *static_cast<Publisher*>(client.state.get());
    try {
        std::vector<WsMessage> messages;
        const bool ok = publisher.reader.feed(data, messages);
        for (auto& m : messages) {
            switch (m.opcode) {
            case WsOpcode::Binary: accept(client, publisher, std::move(m.payload)); break;
            case WsOpcode::Text: {
                PublishMessageParse parsed = parsePublishMessage(m.payload);
                if (!parsed.jpeg) {
                    ++stats_.framesRejected;
                    sendWsError(sockets_, client, parsed.code, parsed.reason);
                } else {
                    accept(client, publisher, std::move(*parsed.jpeg));
                }
                break;
            }
            case WsOpcode::Ping: sendWsPong(sockets_, client, m.payload); break;
            case WsOpcode::Close: closeWs(sockets_, client, kWsNormalClosure, "bye"); return;
            default: break;
            }
        }
        if (!ok) {
            logWarning(publisher.camera->id(), "closing publisher " + client.peer + ": " + publisher.reader.error());
            closeWs(sockets_, client, publisher.reader.closeCode(), publisher.reader.error());
        }
    } catch (...) {
        // What this publisher's input made us throw closes this publisher, and says so.
        const std::string what = currentExceptionText();
        GST_ERROR("publisher %s of %s: %s; closing it with 1011", client.peer.c_str(), publisher.camera->id().c_str(),
                  what.c_str());
        logWarning(publisher.camera->id(), "closing publisher " + client.peer + " after an internal error: " + what);
        release(publisher);
        closeWs(sockets_, client, kWsInternalError, "internal error");
    }
}

void PushIngest::accept(Client& client, Publisher& publisher, std::string jpeg) {
    if (!publisher.active) return;
    std::string why;
    if (!inspectJpeg(jpeg, &why)) {
        ++stats_.framesRejected;
        sendWsError(sockets_, client, "invalid_jpeg", why + " (" + std::to_string(jpeg.size()) + " bytes)");
        return;
    }
    publisher.lastFrameUs = monotonicNowUs();
    const size_t size = jpeg.size();
    auto owned = std::make_unique<std::string>(std::move(jpeg));
    char* bytes = owned->data();
    GRef<GstBuffer> buffer = GRef<GstBuffer>::adopt(gst_buffer_new_wrapped_full(
        GST_MEMORY_FLAG_READONLY, bytes, size, 0, size, owned.release(),
        [](gpointer p) { delete static_cast<std::string*>(p); }));
    if (publisher.camera->pushJpeg(std::move(buffer))) ++stats_.framesAccepted;
    else sendWsError(sockets_, client, "not_running", "camera " + publisher.camera->id() + " is " + toString(publisher.camera->state()));
}

}  // namespace camrelay
