#pragma once
// One camera file: pipelines/<id>.conf. Plain values, no GLib types.
#include "problem.h"

#include <string>

namespace camrelay {

struct Fraction {
    int num = 0;
    int den = 1;
    bool isSet() const { return num > 0; }
    double value() const { return den ? double(num) / den : 0.0; }
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
};

// Camera ids become URL segments and file names: no path tricks.
bool isValidCameraId(const std::string& id);

// fileLabel is used in messages; text is the file's contents.
CameraConfigLoad parseCameraConfig(const std::string& id, const std::string& fileLabel, const std::string& text);

// Reads "<dir>/<id>.conf"; an unreadable file is a problem like any other.
CameraConfigLoad loadCameraConfigFile(const std::string& path);

}  // namespace camrelay
