// /api/cameras/{id}/recording:
//   GET     the camera's recording status
//   POST    starts a manual recording; optional body {"duration": seconds}
//   DELETE  stops it
#include "http/recording_routes.h"

#include "core/json_input.h"
#include "http/request.h"

#include <cmath>

namespace camrelay {

JsonObjectValue recordingJson(const Camera& camera, const Recorder* recorder) {
    const RecordConfig& record = camera.config().record;
    const RecordingStatus s = recorder ? recorder->status() : RecordingStatus{};
    JsonObjectValue o;
    // wanted: asked for (always mode, or a manual recording not yet over);
    // active: a file is being written now (wanted but not active: starting,
    // waiting for the camera or the disk, or finishing the previous file).
    o.set("active", s.active).set("wanted", s.wanted).set("mode", toString(record.mode)).set("format", toString(record.format));
    o.set("file", s.file.empty() ? nullptr : s.file.c_str());
    o.set("bytes", s.bytes).set("frames", s.frames);
    if (s.sinceUnix) o.set("since", s.sinceUnix);
    else o.setNull("since");
    if (s.untilUnix) o.set("until", s.untilUnix);
    else o.setNull("until");
    o.set("error", s.error.empty() ? nullptr : s.error.c_str());
    return o;
}

namespace {

constexpr size_t kMaxBodyBytes = 1024;

// The optional {"duration": seconds} of a POST: 0 when absent; nullopt after answering 400.
std::optional<int64_t> parseDuration(SoupServerMessage* msg) {
    const std::string body = requestBody(msg);
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) return 0;
    auto refuse = [msg](const std::string& message) {
        respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_recording_request", message);
        return std::nullopt;
    };
    const std::string shape = "send no body, or {\"duration\": seconds} with a whole number from 1 to " +
                              std::to_string(Recorder::kMaxDurationSec);
    if (body.size() > kMaxBodyBytes)
        return refuse("the body has " + std::to_string(body.size()) + " bytes, at most " + std::to_string(kMaxBodyBytes) +
                      " are accepted: " + shape);
    JsonInput input(body, JsonInputLimits{kMaxBodyBytes, 2});
    if (!input.ok()) return refuse("the body is not JSON (" + input.error() + "): " + shape);
    JsonObjectView object = input.rootObject();
    if (!object) return refuse("the body is not a JSON object: " + shape);
    GList* members = json_object_get_members(json_node_get_object(input.root()));
    std::string unknown;
    for (GList* m = members; m; m = m->next)
        if (unknown.empty() && !g_str_equal(static_cast<const char*>(m->data), "duration"))
            unknown = static_cast<const char*>(m->data);
    g_list_free(members);
    if (!unknown.empty()) return refuse("unknown member \"" + unknown + "\": " + shape);
    double seconds = 0;
    switch (object.number("duration", &seconds)) {
    case JsonObjectView::Member::Missing:
        return 0;
    case JsonObjectView::Member::WrongType:
        return refuse("duration must be a number: " + shape);
    case JsonObjectView::Member::Ok:
        break;
    }
    if (!std::isfinite(seconds) || seconds < 1 || seconds > double(Recorder::kMaxDurationSec) || std::floor(seconds) != seconds)
        return refuse("duration is out of range: " + shape);
    return int64_t(seconds);
}

void refused(SoupServerMessage* msg, const Recorder::Answer& answer) {
    switch (answer.refusal) {
    case Recorder::Refusal::ModeOff:
        return respondError(msg, SOUP_STATUS_CONFLICT, "recording_off", answer.message);
    case Recorder::Refusal::ModeAlways:
        return respondError(msg, SOUP_STATUS_CONFLICT, "recording_always", answer.message);
    case Recorder::Refusal::CameraFailed:
        return respondError(msg, SOUP_STATUS_CONFLICT, "cannot_record", answer.message);
    case Recorder::Refusal::DiskProblem:
        return respondError(msg, SOUP_STATUS_INSUFFICIENT_STORAGE, "disk_problem", answer.message);
    case Recorder::Refusal::None:
        break;
    }
}

}  // namespace

void handleRecording(SoupServerMessage* msg, Camera& camera, Outputs& outputs) {
    Recorder* recorder = outputs.recorders().find(camera.id());
    const bool post = methodIs(msg, "POST"), del = methodIs(msg, "DELETE");
    if (!post && !del && !isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD, POST, DELETE");
    if (!recorder)
        return respondError(msg, SOUP_STATUS_NOT_FOUND, "not_found", "camera " + camera.id() + " has no recorder");
    if (post || del) {
        Recorder::Answer answer;
        if (post) {
            const std::optional<int64_t> duration = parseDuration(msg);
            if (!duration) return;
            answer = recorder->start(*duration);
        } else {
            answer = recorder->stop();
        }
        if (answer.refusal != Recorder::Refusal::None) return refused(msg, answer);
    }
    respondJson(msg, SOUP_STATUS_OK, recordingJson(camera, recorder));
}

}  // namespace camrelay
