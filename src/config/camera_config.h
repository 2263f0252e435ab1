#pragma once
// One camera file: pipelines/<id>.conf. Plain values, no GLib types.
#include "problem.h"

#include <cstdint>
#include <string>

namespace camrelay {

struct Fraction {
    int num = 0;
    int den = 1;
    bool isSet() const { return num > 0; }
    double value() const { return den ? double(num) / den : 0.0; }
};

// [camera] h264-*: the one H.264 encoder of a camera whose source does not
// deliver H.264 itself (x264enc), shared by RTSP, recording and later outputs.
struct H264Settings {
    int bitrateKbps = 0;               // h264-bitrate: 0 = constant quality (h264-quality)
    int quality = 23;                  // h264-quality: x264 quantizer 1..51, lower is better
    int keyframeIntervalSec = 2;       // h264-keyframe-interval: 1..10 s between key frames
    std::string preset = "ultrafast";  // h264-preset: an x264 speed-preset name
    std::string tune = "zerolatency";  // h264-tune: an x264 tune name, or "none"
};

// jpeg-chroma: the chroma subsampling of the JPEGs camrelay encodes itself
// (raw, decoded and re-encoded JPEG sources; never JPEG passed through).
// 4:2:0 by default: a 720p frame of the demo is 27.7 KB instead of 38.3 KB
// at 4:4:4, and every viewer and decoder expects it (docs/performance.md).
enum class JpegChroma {
    Auto,    // "auto": whatever the source and the encoder negotiate (the behaviour before the key)
    Yuv420,  // "420": I420 before the encoder
    Yuv422,  // "422": Y42B
    Yuv444,  // "444": Y444
};
const char* toString(JpegChroma chroma);
// The raw video format the encoder is given ("I420", "Y42B", "Y444"); "" for Auto.
const char* rawFormatOf(JpegChroma chroma);

enum class RecordMode { Off, Manual, Always };
const char* toString(RecordMode mode);
// mp4: H.264 in MP4 (plays in browsers); mkv: the JPEG frames in Matroska, no encoder at all.
enum class RecordFormat { Mp4, Mkv };
const char* toString(RecordFormat format);

// [record]: recording and timed captures of one camera (docs/configuration.md).
struct RecordConfig {
    RecordMode mode = RecordMode::Manual;  // off: never; manual: from the API/page; always: while the service runs
    RecordFormat format = RecordFormat::Mp4;
    int segmentSec = 300;           // segment: a new file every this many seconds (at a key frame)
    int captureIntervalSec = 0;     // capture-interval: a JPEG every this many seconds; 0: none
    int64_t maxAgeSec = 0;          // max-age: recordings and captures older than this are deleted; 0: no limit
    int64_t maxBytes = 0;           // max-size: this camera's recordings and captures together; 0: no limit
};

struct CameraConfig {
    std::string id;         // file stem; [A-Za-z0-9_-], at most 64 characters
    std::string file;       // where it came from, for messages
    std::string name;       // display name (defaults to id)
    std::string source;     // gst-launch fragment ending in raw video, image/jpeg or encoded video
    std::string encoder = "jpegenc";
    int width = 0;          // 0: keep the source's
    int height = 0;
    Fraction framerate;     // unset: keep the source's
    int quality = 80;       // 1..100, applied to encoders with a "quality" property
    bool enabled = true;    // start with the service
    bool jpegPassthrough = true;  // JPEG sources pass through untouched
    JpegChroma jpegChroma = JpegChroma::Yuv420;  // jpeg-chroma: what camrelay's own encoder is given
    // Recovery (seconds): a live camera with no new frame for watchdogTimeout,
    // or a starting one with no first frame for startTimeout, is rebuilt after
    // reconnectDelay, doubling per failed attempt up to reconnectMaxDelay.
    int watchdogTimeout = 5;
    int startTimeout = 10;
    int reconnectDelay = 1;
    int reconnectMaxDelay = 30;
    // On demand: the pipeline runs only while something consumes the camera
    // (a viewer, a snapshot, an RTSP client), and stops `linger` seconds
    // after the last one leaves.
    bool onDemand = false;
    int linger = 10;
    H264Settings h264;
    RecordConfig record;
};

// Bounds on a camera file (issue 9: a 50 MB name= made GET /api/cameras 65 MB,
// polled by the dashboard every 2 s). Every value is echoed by the API, so
// each is bounded, and so is the file that holds them.
constexpr size_t kMaxCameraFileBytes = 1024 * 1024;  // far above any real camera file (< 2 KB)
constexpr size_t kMaxCameraNameChars = 200;          // a display name, in characters
constexpr size_t kMaxPipelineTextBytes = 16 * 1024;  // source=, encoder=: gst-launch text

struct CameraConfigLoad {
    CameraConfig config;       // filled as far as the file allowed (id/name always)
    ConfigProblems problems;   // empty when the file is valid
    std::string text;          // the file's text as parsed (hot reload compares with it)
};

// Field by field, every field (hot apply: an equal config changes nothing).
bool operator==(const Fraction& a, const Fraction& b);
bool operator==(const H264Settings& a, const H264Settings& b);
bool operator==(const RecordConfig& a, const RecordConfig& b);
bool operator==(const CameraConfig& a, const CameraConfig& b);
inline bool operator!=(const CameraConfig& a, const CameraConfig& b) { return !(a == b); }

// Camera ids become URL segments and file names: no path tricks.
bool isValidCameraId(const std::string& id);

// fileLabel is used in messages; text is the file's contents.
CameraConfigLoad parseCameraConfig(const std::string& id, const std::string& fileLabel, const std::string& text);

// Reads "<dir>/<id>.conf"; an unreadable file is a problem like any other.
CameraConfigLoad loadCameraConfigFile(const std::string& path);

}  // namespace camrelay
