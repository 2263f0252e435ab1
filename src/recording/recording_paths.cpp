#include "recording/recording_paths.h"

#include "config/camera_config.h"

#include <glib.h>

#include <ctime>

namespace camrelay {

namespace {

constexpr std::string_view kCaptures = "captures";

// unixSec (UTC) formatted by strftime: "%Y%m%dT%H%M%SZ" -> "20261121T221500Z".
std::string utc(int64_t unixSec, const char* format) {
    const time_t t = time_t(unixSec);
    struct tm fields {};
    gmtime_r(&t, &fields);
    char text[32];
    strftime(text, sizeof text, format, &fields);
    return text;
}
std::string stamp(int64_t unixSec) { return utc(unixSec, "%Y%m%dT%H%M%SZ"); }
std::string day(int64_t unixSec) { return utc(unixSec, "%Y-%m-%d"); }

bool digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

int number(std::string_view s) {
    int n = 0;
    for (char c : s) n = n * 10 + (c - '0');
    return n;
}

// "20261121T221500Z" -> Unix seconds; nullopt unless it is exactly that shape and a real time.
std::optional<int64_t> parseStamp(std::string_view s) {
    if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z' || !digits(s.substr(0, 8)) || !digits(s.substr(9, 6)))
        return std::nullopt;
    const int year = number(s.substr(0, 4)), month = number(s.substr(4, 2)), mday = number(s.substr(6, 2));
    const int hour = number(s.substr(9, 2)), minute = number(s.substr(11, 2)), second = number(s.substr(13, 2));
    if (year < 1970 || month < 1 || month > 12 || mday < 1 || mday > 31 || hour > 23 || minute > 59 || second > 59)
        return std::nullopt;
    GDateTime* parsed = g_date_time_new_utc(year, month, mday, hour, minute, second);
    if (!parsed) return std::nullopt;  // 31 February
    const int64_t unix = g_date_time_to_unix(parsed);
    g_date_time_unref(parsed);
    return unix;
}

// Splits "<camera>/<middle>/<file>" into exactly three non-empty parts.
bool splitId(std::string_view id, std::string_view& camera, std::string_view& middle, std::string_view& file) {
    if (id.size() > 256) return false;
    const size_t a = id.find('/');
    if (a == std::string_view::npos) return false;
    const size_t b = id.find('/', a + 1);
    if (b == std::string_view::npos || id.find('/', b + 1) != std::string_view::npos) return false;
    camera = id.substr(0, a);
    middle = id.substr(a + 1, b - a - 1);
    file = id.substr(b + 1);
    return !camera.empty() && !middle.empty() && !file.empty();
}

// "<camera>-<stamp>[-N].<ext>" with the camera and one of the extensions; fills name.
bool parseFileName(std::string_view camera, std::string_view file, std::initializer_list<std::string_view> exts,
                   bool allowSequence, RecordingName& name) {
    if (file.size() <= camera.size() + 1 || file.substr(0, camera.size()) != camera || file[camera.size()] != '-')
        return false;
    std::string_view rest = file.substr(camera.size() + 1);
    const size_t dot = rest.rfind('.');
    if (dot == std::string_view::npos) return false;
    const std::string_view ext = rest.substr(dot + 1);
    bool known = false;
    for (std::string_view e : exts) known = known || ext == e;
    if (!known) return false;
    std::string_view base = rest.substr(0, dot);
    int sequence = 0;
    if (base.size() > 16) {
        if (!allowSequence || base[16] != '-') return false;
        const std::string_view seq = base.substr(17);
        if (!digits(seq) || seq.size() > 3 || seq[0] == '0') return false;
        sequence = number(seq);
        base = base.substr(0, 16);
    }
    auto start = parseStamp(base);
    if (!start) return false;
    name.camera = std::string(camera);
    name.file = std::string(file);
    name.ext = std::string(ext);
    name.startUnix = *start;
    name.sequence = sequence;
    return true;
}

}  // namespace

std::string segmentRelativePath(const std::string& camera, int64_t unixSec, const std::string& ext, int sequence) {
    std::string file = camera + "-" + stamp(unixSec);
    if (sequence > 0) file += "-" + std::to_string(sequence);
    return camera + "/" + day(unixSec) + "/" + file + "." + ext;
}

std::string captureRelativePath(const std::string& camera, int64_t unixSec) {
    return camera + "/" + std::string(kCaptures) + "/" + camera + "-" + stamp(unixSec) + ".jpg";
}

std::optional<RecordingName> parseRecordingId(std::string_view id) {
    std::string_view camera, middle, file;
    if (!splitId(id, camera, middle, file) || !isValidCameraId(std::string(camera))) return std::nullopt;
    RecordingName name;
    if (!parseFileName(camera, file, {"mp4", "mkv"}, true, name)) return std::nullopt;
    // The day folder is the file's own UTC day: one name, one place.
    if (middle != day(name.startUnix)) return std::nullopt;
    name.day = std::string(middle);
    return name;
}

std::optional<RecordingName> parseCaptureId(std::string_view id) {
    std::string_view camera, middle, file;
    if (!splitId(id, camera, middle, file) || middle != kCaptures || !isValidCameraId(std::string(camera)))
        return std::nullopt;
    RecordingName name;
    if (!parseFileName(camera, file, {"jpg"}, false, name)) return std::nullopt;
    name.day = std::string(kCaptures);
    return name;
}

std::string partialMarkerPath(const std::string& segmentPath) { return segmentPath + ".partial"; }

const char* contentTypeForExtension(std::string_view ext) {
    if (ext == "mp4") return "video/mp4";
    if (ext == "mkv") return "video/x-matroska";
    if (ext == "jpg") return "image/jpeg";
    return "application/octet-stream";
}

}  // namespace camrelay
