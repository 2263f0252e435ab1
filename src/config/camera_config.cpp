#include "camera_config.h"

#include "core/files.h"
#include "core/gobject_ptr.h"
#include "key_file_reader.h"

#include <glib/gstdio.h>

#include <cerrno>
#include <regex>

namespace camrelay {

namespace {
constexpr const char* kGroup = "camera";
constexpr const char* kRecordGroup = "record";

// One of a fixed list of words, or a problem listing them.
std::optional<std::string> oneOf(KeyFileReader& reader, const char* group, const char* key,
                                 std::initializer_list<const char*> words) {
    auto v = reader.string(group, key);
    if (!v) return std::nullopt;
    std::string list;
    for (const char* w : words) {
        if (*v == w) return v;
        list += std::string(list.empty() ? "" : ", ") + w;
    }
    reader.problem(group, key, "must be one of " + list + " (got \"" + clipText(*v, kMaxQuotedBytes) + "\")");
    return std::nullopt;
}

void parseH264(KeyFileReader& reader, H264Settings& h) {
    if (auto v = reader.integer(kGroup, "h264-bitrate", 0, 100000)) h.bitrateKbps = *v;
    if (auto v = reader.integer(kGroup, "h264-quality", 1, 51)) h.quality = *v;
    if (auto v = reader.integer(kGroup, "h264-keyframe-interval", 1, 10)) h.keyframeIntervalSec = *v;
    if (auto v = oneOf(reader, kGroup, "h264-preset", {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium",
                                                        "slow", "slower", "veryslow"}))
        h.preset = *v;
    if (auto v = oneOf(reader, kGroup, "h264-tune", {"zerolatency", "fastdecode", "stillimage", "none"})) h.tune = *v;
}

void parseRecord(KeyFileReader& reader, RecordConfig& r) {
    if (auto v = oneOf(reader, kRecordGroup, "mode", {"off", "manual", "always"}))
        r.mode = *v == "off" ? RecordMode::Off : *v == "always" ? RecordMode::Always : RecordMode::Manual;
    if (auto v = oneOf(reader, kRecordGroup, "format", {"mp4", "mkv"})) r.format = *v == "mkv" ? RecordFormat::Mkv : RecordFormat::Mp4;
    if (auto v = reader.duration(kRecordGroup, "segment", 10, 24 * 3600)) r.segmentSec = int(*v);
    if (auto v = reader.duration(kRecordGroup, "capture-interval", 0, 24 * 3600)) r.captureIntervalSec = int(*v);
    if (auto v = reader.duration(kRecordGroup, "max-age", 0, int64_t(100) * 366 * 86400)) r.maxAgeSec = *v;
    if (auto v = reader.bytes(kRecordGroup, "max-size", 0, INT64_MAX)) r.maxBytes = *v;
}

std::optional<Fraction> parseFraction(KeyFileReader& reader, const char* key) {
    auto text = reader.string(kGroup, key);
    if (!text) return std::nullopt;
    static const std::regex form(R"(^([0-9]{1,5})(/([0-9]{1,5}))?$)");
    std::smatch m;
    if (std::regex_match(*text, m, form)) {
        Fraction f{std::stoi(m[1].str()), m[3].matched ? std::stoi(m[3].str()) : 1};
        if (f.num > 0 && f.den > 0 && f.value() <= 240.0) return f;
    }
    reader.problem(kGroup, key, "must be frames per second like 30 or 30000/1001, at most 240 (got \"" +
                                    clipText(*text, kMaxQuotedBytes) + "\")");
    return std::nullopt;
}

std::string tooBig(size_t bytes, size_t limit) {
    return "is " + std::to_string(bytes) + " bytes; a camera file may be at most " + std::to_string(limit) +
           " bytes (1 MiB)";
}

// Characters when the text is UTF-8, else bytes.
size_t characters(const std::string& text) {
    return g_utf8_validate(text.data(), gssize(text.size()), nullptr) ? size_t(g_utf8_strlen(text.data(), gssize(text.size())))
                                                                       : text.size();
}

// A string value no longer than the limit, or a problem naming the key, the
// length and the limit (and the value stays unset).
// unit: "characters" or "bytes".
std::optional<std::string> boundedString(KeyFileReader& reader, const char* key, size_t limit, const std::string& unit) {
    auto v = reader.string(kGroup, key);
    if (!v) return std::nullopt;
    const size_t actual = unit == "characters" ? characters(*v) : v->size();
    if (actual <= limit) return v;
    reader.problem(kGroup, key, "is too long: " + std::to_string(actual) + " " + unit + "; at most " +
                                    std::to_string(limit) + " " + unit);
    return std::nullopt;
}
}  // namespace

const char* toString(RecordMode mode) {
    switch (mode) {
    case RecordMode::Off: return "off";
    case RecordMode::Manual: return "manual";
    case RecordMode::Always: return "always";
    }
    return "off";
}

const char* toString(JpegChroma chroma) {
    switch (chroma) {
    case JpegChroma::Auto: return "auto";
    case JpegChroma::Yuv420: return "420";
    case JpegChroma::Yuv422: return "422";
    case JpegChroma::Yuv444: return "444";
    }
    return "auto";
}

const char* rawFormatOf(JpegChroma chroma) {
    switch (chroma) {
    case JpegChroma::Auto: return "";
    case JpegChroma::Yuv420: return "I420";
    case JpegChroma::Yuv422: return "Y42B";
    case JpegChroma::Yuv444: return "Y444";
    }
    return "";
}

const char* toString(RecordFormat format) { return format == RecordFormat::Mkv ? "mkv" : "mp4"; }

bool isValidCameraId(const std::string& id) {
    static const std::regex form("^[A-Za-z0-9_-]{1,64}$");
    return std::regex_match(id, form);
}

CameraConfigLoad parseCameraConfig(const std::string& id, const std::string& fileLabel, const std::string& text) {
    CameraConfigLoad load;
    load.text = text;
    CameraConfig& c = load.config;
    c.id = id;
    c.file = fileLabel;
    c.name = id;
    if (!isValidCameraId(id))
        load.problems.push_back({fileLabel, "", "camera id \"" + clipText(id, kMaxQuotedBytes) +
                                                    "\" (the file name) may use only A-Z a-z 0-9 _ - and at most 64 characters"});
    if (text.size() > kMaxCameraFileBytes) {  // not parsed at all: nothing in it is read
        load.problems.push_back({fileLabel, "", tooBig(text.size(), kMaxCameraFileBytes)});
        return load;
    }

    KeyFileReader reader(fileLabel, text, load.problems);
    if (!reader.ok()) return load;
    // A key file without [camera] is some other file (a symlink to another
    // program's config): its group and key names are not listed, nothing of it is quoted.
    if (!reader.hasGroup(kGroup)) {
        load.problems.push_back({fileLabel, "", "has no [camera] group: not a camera file"});
        return load;
    }
    reader.rejectUnknown({kGroup, kRecordGroup}, kGroup,
                         {"name", "source", "encoder", "width", "height", "framerate", "quality", "enabled", "jpeg-passthrough",
                          "jpeg-chroma",
                          "watchdog-timeout", "start-timeout", "reconnect-delay", "reconnect-max-delay",
                          "on-demand", "linger", "h264-bitrate", "h264-quality", "h264-keyframe-interval",
                          "h264-preset", "h264-tune"});
    reader.rejectUnknown({kGroup, kRecordGroup}, kRecordGroup,
                         {"mode", "format", "segment", "capture-interval", "max-age", "max-size"});
    if (!reader.has(kGroup, "source")) reader.problem(kGroup, "source", "missing: every camera needs a source= pipeline fragment");

    if (auto v = boundedString(reader, "name", kMaxCameraNameChars, "characters"); v && !v->empty()) c.name = *v;
    if (auto v = boundedString(reader, "source", kMaxPipelineTextBytes, "bytes")) {
        if (v->empty()) reader.problem(kGroup, "source", "is empty");
        c.source = *v;
    }
    if (auto v = boundedString(reader, "encoder", kMaxPipelineTextBytes, "bytes")) {
        if (v->empty()) reader.problem(kGroup, "encoder", "is empty (leave the key out for jpegenc)");
        else c.encoder = *v;
    }
    if (auto v = reader.integer(kGroup, "width", 16, 16384)) c.width = *v;
    if (auto v = reader.integer(kGroup, "height", 16, 16384)) c.height = *v;
    if (auto v = parseFraction(reader, "framerate")) c.framerate = *v;
    if (auto v = reader.integer(kGroup, "quality", 1, 100)) c.quality = *v;
    if (auto v = reader.boolean(kGroup, "enabled")) c.enabled = *v;
    if (auto v = reader.boolean(kGroup, "jpeg-passthrough")) c.jpegPassthrough = *v;
    if (auto v = oneOf(reader, kGroup, "jpeg-chroma", {"420", "422", "444", "auto"}))
        c.jpegChroma = *v == "auto" ? JpegChroma::Auto : *v == "422" ? JpegChroma::Yuv422
                     : *v == "444" ? JpegChroma::Yuv444 : JpegChroma::Yuv420;
    if (auto v = reader.boolean(kGroup, "on-demand")) c.onDemand = *v;
    if (auto v = reader.integer(kGroup, "linger", 0, 86400)) c.linger = *v;
    if (auto v = reader.integer(kGroup, "watchdog-timeout", 1, 3600)) c.watchdogTimeout = *v;
    if (auto v = reader.integer(kGroup, "start-timeout", 1, 3600)) c.startTimeout = *v;
    if (auto v = reader.integer(kGroup, "reconnect-delay", 1, 3600)) c.reconnectDelay = *v;
    if (auto v = reader.integer(kGroup, "reconnect-max-delay", 1, 3600)) c.reconnectMaxDelay = *v;
    if (c.reconnectMaxDelay < c.reconnectDelay)
        reader.problem(kGroup, "reconnect-max-delay",
                       "must be at least reconnect-delay (" + std::to_string(c.reconnectDelay) + ")");
    parseH264(reader, c.h264);
    parseRecord(reader, c.record);
    if (reader.has(kGroup, "width") != reader.has(kGroup, "height"))
        reader.problem(kGroup, reader.has(kGroup, "width") ? "height" : "width",
                       "width and height go together: set both or neither");
    return load;
}

CameraConfigLoad loadCameraConfigFile(const std::string& path) {
    GUniquePtr<gchar> base(g_path_get_basename(path.c_str()));
    std::string id = base.get();
    if (g_str_has_suffix(id.c_str(), ".conf")) id.resize(id.size() - 5);

    // Checked before reading: a hostile or mistaken file (a video, /dev/zero
    // behind a symlink) is never read into memory.
    GStatBuf st{};
    if (g_stat(path.c_str(), &st) == 0 && (!S_ISREG(st.st_mode) || size_t(st.st_size) > kMaxCameraFileBytes)) {
        CameraConfigLoad load;
        load.config.id = load.config.name = id;
        load.config.file = path;
        load.problems.push_back({path, "", S_ISREG(st.st_mode) ? tooBig(size_t(st.st_size), kMaxCameraFileBytes)
                                                                : std::string("is not a regular file")});
        return load;
    }
    std::string error;
    auto text = readFile(path, &error);
    if (!text) {
        CameraConfigLoad load;
        load.config.id = load.config.name = id;
        load.config.file = path;
        load.problems.push_back({path, "", "cannot read: " + error});
        return load;
    }
    return parseCameraConfig(id, path, *text);
}

bool operator==(const Fraction& a, const Fraction& b) { return a.num == b.num && a.den == b.den; }

bool operator==(const H264Settings& a, const H264Settings& b) {
    return a.bitrateKbps == b.bitrateKbps && a.quality == b.quality && a.keyframeIntervalSec == b.keyframeIntervalSec &&
           a.preset == b.preset && a.tune == b.tune;
}

bool operator==(const RecordConfig& a, const RecordConfig& b) {
    return a.mode == b.mode && a.format == b.format && a.segmentSec == b.segmentSec &&
           a.captureIntervalSec == b.captureIntervalSec && a.maxAgeSec == b.maxAgeSec && a.maxBytes == b.maxBytes;
}

bool operator==(const CameraConfig& a, const CameraConfig& b) {
    return a.id == b.id && a.file == b.file && a.name == b.name && a.source == b.source && a.encoder == b.encoder &&
           a.width == b.width && a.height == b.height && a.framerate == b.framerate && a.quality == b.quality &&
           a.enabled == b.enabled && a.jpegPassthrough == b.jpegPassthrough && a.jpegChroma == b.jpegChroma && a.watchdogTimeout == b.watchdogTimeout &&
           a.startTimeout == b.startTimeout && a.reconnectDelay == b.reconnectDelay &&
           a.reconnectMaxDelay == b.reconnectMaxDelay && a.onDemand == b.onDemand && a.linger == b.linger &&
           a.h264 == b.h264 && a.record == b.record;
}

}  // namespace camrelay
