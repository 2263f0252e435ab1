#pragma once
// What happened to the cameras, newest last: state changes, errors with
// GStreamer's message, reconnect attempts. Keeps the most recent events in a
// ring and tells listeners (the /api/events WebSocket) about each new one.
// Messages are already redacted by the camera.
// Thread affinity: loop thread only.
#include "core/signal.h"

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace camrelay {

struct CameraEvent {
    std::string camera;     // camera id
    std::string type;       // "state", "error", "reconnect", "apply", "apply-error", "record-*", "capture-error" (docs/api.md)
    std::string state;      // the camera's state after the event
    std::string message;    // human sentence; GStreamer's words for errors
    int attempt = 0;        // reconnect: attempts in a row since the camera was last live
    double delaySec = 0;    // reconnect: wait before this attempt
};

struct LoggedEvent {
    uint64_t id = 0;        // 1, 2, 3 ... for the service's life
    int64_t unixUs = 0;
    CameraEvent event;
};

class EventLog {
public:
    explicit EventLog(size_t capacity = 500) : capacity_(capacity) {}
    void record(CameraEvent event);
    // Events with id > afterId, oldest first; at most limit (the newest ones).
    std::vector<LoggedEvent> recent(uint64_t afterId = 0, size_t limit = SIZE_MAX) const;
    Connection onEvent(std::function<void(const LoggedEvent&)> fn) { return signal_.connect(std::move(fn)); }

private:
    size_t capacity_;
    uint64_t nextId_ = 1;
    std::deque<LoggedEvent> events_;
    Signal<const LoggedEvent&> signal_;
};

}  // namespace camrelay
