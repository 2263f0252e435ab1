#pragma once
// Logging. Two audiences:
//  - operators: logInfo/logWarning/logError print one line to stderr
//    ("camrelay: [camera demo] live 1280x720"), which journald captures;
//  - developers: one GstDebugCategory per module, so
//    GST_DEBUG=camrelay-*:5 works beside the elements' own logs.
// Every line loses credentials (core/redact.h) before it is written, ours in
// logLine() and GLib's/GStreamer's g_warning()/g_critical() through the GLib
// log writer initLogging() installs. GST_DEBUG output is GStreamer's own.
// Thread affinity: any thread.
#include <gst/gst.h>

#include <string>

GST_DEBUG_CATEGORY_EXTERN(camrelay_camera_debug);
GST_DEBUG_CATEGORY_EXTERN(camrelay_http_debug);
GST_DEBUG_CATEGORY_EXTERN(camrelay_output_debug);
GST_DEBUG_CATEGORY_EXTERN(camrelay_config_debug);

namespace camrelay {

void initLogging();

enum class LogLevel { Info, Warning, Error };
void logLine(LogLevel level, const std::string& scope, const std::string& message);

inline void logInfo(const std::string& scope, const std::string& m) { logLine(LogLevel::Info, scope, m); }
inline void logWarning(const std::string& scope, const std::string& m) { logLine(LogLevel::Warning, scope, m); }
inline void logError(const std::string& scope, const std::string& m) { logLine(LogLevel::Error, scope, m); }

// What the exception being handled says, for a log line: call inside a catch block.
std::string currentExceptionText() noexcept;

}  // namespace camrelay
