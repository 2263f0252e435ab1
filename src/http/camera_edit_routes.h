#pragma once
// The camera API's editing routes (docs/api.md "Managing cameras"):
//   POST /api/cameras, PUT|PATCH|DELETE /api/cameras/{id}, GET /api/cameras/{id}/config,
// and the ETag of GET /api/cameras/{id}. The pipelines directory's files are
// the single source of truth: a request becomes a new file text
// (config/camera_file), checked with the loader and planGraph, written
// atomically with a backup, then applied to the registry (hot apply).
// Who may call them is the access gate's business (admin only, same origin);
// these functions check everything else about the request.
// Thread affinity: loop thread only (the registry's thread). File writes are
// synchronous there: a camera file is a few hundred bytes; fsync costs
// milliseconds, and one writer at a time keeps If-Match checks race-free.
#include "camera/registry.h"
#include "config/service_config.h"
#include "outputs/outputs.h"

#include <libsoup/soup.h>

#include <string>

namespace camrelay {

struct CameraEditContext {
    Registry& registry;
    Outputs& outputs;
    const ServiceConfig& config;
};

// POST /api/cameras: 201 + camera JSON, ETag, Location.
void createCamera(SoupServerMessage* msg, const CameraEditContext& ctx);
// PUT (replace = true) or PATCH /api/cameras/{id}: 200 + camera JSON + ETag.
void editCamera(SoupServerMessage* msg, const CameraEditContext& ctx, const std::string& id, bool replace);
// DELETE /api/cameras/{id}: 204; the file goes to the backup directory, recordings stay.
void deleteCamera(SoupServerMessage* msg, const CameraEditContext& ctx, const std::string& id);
// GET /api/cameras/{id}/config: the editable view (every key, credentials redacted).
void respondCameraConfig(SoupServerMessage* msg, const CameraEditContext& ctx, const std::string& id);
// Adds the ETag of the camera's file to a response (nothing when it has no file).
void setCameraEtag(SoupServerMessage* msg, const CameraEditContext& ctx, const std::string& id);

}  // namespace camrelay
