#include "http/compat_path.h"

#include "config/camera_config.h"

#include <algorithm>

namespace camrelay {

namespace {

// "stream_12" -> {Stream, 12}; nullopt kind when it is not a compatibility action.
std::pair<CompatKind, std::optional<size_t>> parseAction(std::string_view action) {
    for (const auto& [name, kind] : {std::pair<std::string_view, CompatKind>{"stream", CompatKind::Stream},
                                     std::pair<std::string_view, CompatKind>{"snapshot", CompatKind::Snapshot}}) {
        if (action == name) return {kind, std::nullopt};
        if (action.size() <= name.size() + 1 || action.size() > name.size() + 5) continue;
        if (action.substr(0, name.size()) != name || action[name.size()] != '_') continue;
        size_t n = 0;
        bool digits = true;
        for (char c : action.substr(name.size() + 1)) {
            if (c < '0' || c > '9') digits = false;
            else n = n * 10 + size_t(c - '0');
        }
        if (digits) return {kind, n};
    }
    return {CompatKind::None, std::nullopt};
}

}  // namespace

bool isCompatAction(std::string_view action) { return parseAction(action).first != CompatKind::None; }

bool isCompatPath(std::string_view path) { return path == "/stream" || path == "/snapshot" || path == "/state"; }

CompatRequest parseCompatRequest(std::string_view path, std::string_view action, std::string_view camera) {
    CompatRequest request;
    if (path == "/") {
        const auto [kind, index] = parseAction(action);
        request.kind = kind;
        request.index = index;
    } else if (path == "/stream") {
        request.kind = CompatKind::Stream;
    } else if (path == "/snapshot") {
        request.kind = CompatKind::Snapshot;
    } else if (path == "/state") {
        request.kind = CompatKind::State;
    }
    if (request.kind != CompatKind::None) request.camera = std::string(camera);
    return request;
}

CompatTarget resolveCompatCamera(const CompatRequest& request, const std::vector<std::string>& cameraIds,
                                 const std::string& defaultCamera) {
    const auto known = [&](const std::string& id) {
        return std::find(cameraIds.begin(), cameraIds.end(), id) != cameraIds.end();
    };
    if (!request.camera.empty()) {
        if (known(request.camera)) return {request.camera, ""};
        // Quoted only when it is an id: what the client sent may be anything.
        if (!isValidCameraId(request.camera)) return {"", "no such camera: ids use only A-Z a-z 0-9 _ - and at most 64 characters"};
        return {"", "no camera \"" + request.camera + "\""};
    }
    if (request.index) {
        if (*request.index < cameraIds.size()) return {cameraIds[*request.index], ""};
        return {"", "no camera number " + std::to_string(*request.index) + ": there are " +
                        std::to_string(cameraIds.size()) + " (numbered from 0 in GET /api/cameras order)"};
    }
    if (!defaultCamera.empty()) {
        if (known(defaultCamera)) return {defaultCamera, ""};
        return {"", "no camera \"" + defaultCamera + "\" ([compat] default-camera)"};
    }
    if (cameraIds.empty()) return {"", "there are no cameras"};
    return {cameraIds.front(), ""};
}

}  // namespace camrelay
