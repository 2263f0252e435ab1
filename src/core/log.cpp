#include "log.h"

#include <exception>
#include <typeinfo>

#include "redact.h"

#include <cstdio>
#include <mutex>
#include <string_view>
#include <vector>

GST_DEBUG_CATEGORY(camrelay_camera_debug);
GST_DEBUG_CATEGORY(camrelay_http_debug);
GST_DEBUG_CATEGORY(camrelay_output_debug);
GST_DEBUG_CATEGORY(camrelay_config_debug);

namespace camrelay {

namespace {

// GLib's and GStreamer's own g_warning()/g_critical() lines go to stderr (the
// journal) beside ours: they lose credentials the same way.
GLogWriterOutput redactingWriter(GLogLevelFlags level, const GLogField* fields, gsize count, gpointer) noexcept {
    try {
        std::vector<GLogField> copy(fields, fields + count);
        std::string message;
        for (GLogField& field : copy) {
            if (g_strcmp0(field.key, "MESSAGE") != 0 || !field.value) continue;
            const char* text = static_cast<const char*>(field.value);
            message = redactCredentials(field.length < 0 ? std::string_view(text) : std::string_view(text, size_t(field.length)));
            field.value = message.c_str();
            field.length = -1;
        }
        return g_log_writer_default(level, copy.data(), count, nullptr);
    } catch (...) {  // out of memory: the unredacted line is not written
        std::fputs("camrelay: a GLib log message could not be redacted and was dropped\n", stderr);
        return G_LOG_WRITER_HANDLED;
    }
}

}  // namespace

void initLogging() {
    static std::once_flag once;
    std::call_once(once, [] {
        g_log_set_writer_func(redactingWriter, nullptr, nullptr);
        GST_DEBUG_CATEGORY_INIT(camrelay_camera_debug, "camrelay-camera", 0, "camrelay cameras");
        GST_DEBUG_CATEGORY_INIT(camrelay_http_debug, "camrelay-http", 0, "camrelay HTTP server");
        GST_DEBUG_CATEGORY_INIT(camrelay_output_debug, "camrelay-output", 0, "camrelay outputs");
        GST_DEBUG_CATEGORY_INIT(camrelay_config_debug, "camrelay-config", 0, "camrelay config");
    });
}

void logLine(LogLevel level, const std::string& scope, const std::string& raw) {
    // Every line, whatever its origin, loses camera passwords before it is written.
    const std::string message = redactCredentials(raw);
    const char* tag = level == LogLevel::Error ? "error: " : level == LogLevel::Warning ? "warning: " : "";
    // One fprintf per line keeps lines whole when several threads log.
    if (scope.empty())
        std::fprintf(stderr, "camrelay: %s%s\n", tag, message.c_str());
    else
        std::fprintf(stderr, "camrelay: [%s] %s%s\n", scope.c_str(), tag, message.c_str());
}

std::string currentExceptionText() noexcept {
    try {
        try {
            throw;
        } catch (const std::exception& e) {
            return std::string(typeid(e).name()) + ": " + e.what();
        } catch (...) {
            return "an exception of unknown type";
        }
    } catch (...) {  // building the text itself failed (out of memory)
        return {};
    }
}

}  // namespace camrelay
