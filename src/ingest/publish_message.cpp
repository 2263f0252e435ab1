#include "publish_message.h"

#include "core/json_input.h"

#include <glib.h>

#include <memory>

namespace camrelay {

namespace {

constexpr JsonInputLimits kLimits{kMaxPublishMessage, 8};
constexpr const char* kShape = "expected {\"type\":\"frame\",\"data\":{\"frame\":\"<base64 JPEG>\"}}";

PublishMessageParse failure(std::string reason) {
    PublishMessageParse p;
    p.code = "bad_message";
    p.reason = std::move(reason);
    return p;
}

}  // namespace

PublishMessageParse parsePublishMessage(const std::string& text) {
    using Member = JsonObjectView::Member;
    const JsonInput input(text, kLimits);
    if (!input.ok()) return failure("not JSON (" + input.error() + "); " + kShape);
    const JsonObjectView message = input.rootObject();
    if (!message) return failure(std::string("not a JSON object; ") + kShape);
    std::string type;
    if (message.string("type", &type) != Member::Ok || type != "frame")
        return failure(std::string("type must be the string \"frame\"; ") + kShape);
    JsonObjectView data;
    if (message.object("data", &data) != Member::Ok) return failure(std::string("data must be an object; ") + kShape);
    std::string frame;
    if (data.string("frame", &frame) != Member::Ok || frame.empty())
        return failure(std::string("data.frame must be a base64 string; ") + kShape);
    gsize size = 0;
    std::unique_ptr<guchar, void (*)(gpointer)> bytes(g_base64_decode(frame.c_str(), &size), g_free);
    if (!bytes || size == 0) return failure("data.frame is not base64");
    PublishMessageParse p;
    p.jpeg.emplace(reinterpret_cast<const char*>(bytes.get()), size);
    return p;
}

}  // namespace camrelay
