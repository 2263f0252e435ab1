// libFuzzer target: the JSON that clients send, through each pure parser.
//   /api/ws                    parseViewerCommand(text, multi = true)
//   /api/cameras/{id}/ws       parseViewerCommand(text, multi = false)
//   /api/cameras/{id}/publish  parsePublishMessage(text)
// plus the checked-access helper itself. Seeds: fuzz/corpus/client_json/.
// Links the core, outputs and ingest static libraries (fuzz/meson.build).
#include "core/json_input.h"
#include "ingest/publish_message.h"
#include "outputs/viewer_command.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

using namespace camrelay;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);

    for (bool multi : {true, false}) {
        const ViewerCommandParse v = parseViewerCommand(text, multi);
        // Either a command or an error with a code and reason, never both, never neither.
        if (v.command.has_value() == !v.code.empty()) std::abort();
        if (!v.command && v.reason.empty()) std::abort();
        if (v.command && !(std::isfinite(v.command->fps) && v.command->fps >= 0 && v.command->fps <= kMaxViewerFps))
            std::abort();
        if (v.command && !multi &&
            (v.command->type == ViewerCommandType::Subscribe || v.command->type == ViewerCommandType::Unsubscribe))
            std::abort();
    }

    const PublishMessageParse p = parsePublishMessage(text);
    if (p.jpeg.has_value() == !p.code.empty()) std::abort();
    if (p.jpeg && p.jpeg->empty()) std::abort();

    // The helper on its own, with small limits so the depth path is hit often.
    const JsonInput input(text, JsonInputLimits{1 << 20, 4});
    if (input.ok() != (input.root() != nullptr)) std::abort();
    if (const JsonObjectView o = input.rootObject()) {
        std::string s;
        double d = 0;
        bool b = false;
        JsonObjectView sub;
        for (const char* key : {"type", "data", "camera", "fps", "frame"}) {
            (void)o.string(key, &s);
            (void)o.number(key, &d);
            (void)o.boolean(key, &b);
            if (o.object(key, &sub) == JsonObjectView::Member::Ok) (void)sub.string("camera", &s);
        }
    }
    return 0;
}
