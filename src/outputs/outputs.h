#pragma once
// The outputs of every camera: MJPEG fan-out and snapshots. Cameras do not
// know about outputs; outputs attach to cameras.
// Thread affinity: loop thread only.
#include "camera/registry.h"
#include "outputs/mjpeg_fanout.h"
#include "outputs/snapshot.h"

#include <map>
#include <memory>
#include <string>

namespace camrelay {

class Outputs {
public:
    Outputs(Registry& registry, int clientTimeoutSec);
    MjpegFanout* mjpeg(const std::string& cameraId) const;
    SnapshotRequests& snapshots() { return snapshots_; }

private:
    std::map<std::string, std::unique_ptr<MjpegFanout>> mjpeg_;
    SnapshotRequests snapshots_;
};

}  // namespace camrelay
