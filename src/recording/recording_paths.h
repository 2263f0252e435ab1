#pragma once
// Names of recordings and captures on disk, and the only way an id from a
// request becomes a path. Layout under the recordings dir (recordingsDir()):
//   <camera>/<YYYY-MM-DD>/<camera>-<YYYYMMDD>T<HHMMSS>Z[-N].mp4|mkv   segments (UTC)
//   <camera>/<YYYY-MM-DD>/<same name>.partial                         marker: being written, or cut by a crash
//   <camera>/captures/<camera>-<YYYYMMDD>T<HHMMSS>Z.jpg               timed captures (UTC)
// A recording's id is its relative path "<camera>/<day>/<file>" (a capture's:
// "<camera>/captures/<file>"). Ids are parsed strictly: every character of
// every part is checked against these shapes, so "..", "/", "%", NUL and any
// other trick never reach the filesystem.
// Thread affinity: any thread (pure).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace camrelay {

struct RecordingName {
    std::string camera;
    std::string day;        // "2026-11-21" (segments) or "captures"
    std::string file;       // the file name
    int64_t startUnix = 0;  // from the name (UTC)
    std::string ext;        // "mp4", "mkv" or "jpg"
    int sequence = 0;       // the -N of a second file started in the same second
    std::string id() const { return camera + "/" + day + "/" + file; }  // = the relative path
};

// "<camera>/<day>/<camera>-<time>Z[-N].<ext>" for a segment started at unixSec.
std::string segmentRelativePath(const std::string& camera, int64_t unixSec, const std::string& ext, int sequence = 0);
// "<camera>/captures/<camera>-<time>Z.jpg".
std::string captureRelativePath(const std::string& camera, int64_t unixSec);

// A segment id (mp4/mkv under a day folder), or nullopt for anything else.
std::optional<RecordingName> parseRecordingId(std::string_view id);
// A capture id (jpg under captures/), or nullopt for anything else.
std::optional<RecordingName> parseCaptureId(std::string_view id);

// The marker beside a segment while it is written; left behind by a crash.
std::string partialMarkerPath(const std::string& segmentPath);

// "video/mp4", "video/x-matroska", "image/jpeg".
const char* contentTypeForExtension(std::string_view ext);

}  // namespace camrelay
