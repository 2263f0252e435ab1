#pragma once
// The URLs of the tools camrelay replaces, as a pure parser (unit-tested apart
// from libsoup), shared by the access rules and the compatibility routes:
//   mjpg-streamer: /?action=stream, /?action=snapshot, /?action=stream_N and
//                  snapshot_N (the N-th camera, 0-based, in GET /api/cameras order);
//   ustreamer:     /stream, /snapshot, /state;
//   any of them:   &camera=<id> names the camera (it wins over _N).
// Without a camera named, they serve [compat] default-camera, else the first camera.
// Thread affinity: any thread (pure).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay {

enum class CompatKind { None, Stream, Snapshot, State };

struct CompatRequest {
    CompatKind kind = CompatKind::None;  // None: not a compatibility URL ("/" then serves the page)
    std::optional<size_t> index;         // stream_N / snapshot_N
    std::string camera;                  // ?camera= as sent ("" when absent)
};

// "stream", "snapshot", "stream_N", "snapshot_N" (N: 1 to 4 digits).
bool isCompatAction(std::string_view action);
// "/stream", "/snapshot", "/state" exactly.
bool isCompatPath(std::string_view path);
// path as libsoup hands it; action and camera are the query values ("" when absent).
CompatRequest parseCompatRequest(std::string_view path, std::string_view action, std::string_view camera);

struct CompatTarget {
    std::string cameraId;  // empty when error is set
    std::string error;     // why no camera is served (for a 404 that names it)
};

// cameraIds: the running cameras in GET /api/cameras order.
CompatTarget resolveCompatCamera(const CompatRequest& request, const std::vector<std::string>& cameraIds,
                                 const std::string& defaultCamera);

}  // namespace camrelay
