#pragma once
// Many real viewers on one epoll loop: each is a TCP connection that sends a
// GET and reads multipart parts as a browser would (MJPEG), or upgrades to a
// WebSocket and reads frame messages (camrelay's /ws endpoints). Records, per
// viewer, frames, bytes, time to first frame and delivery latency
// (arrival minus X-Timestamp). Used by integration tests and bench/.
#include "multipart_reader.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace camrelay::testing {

struct ViewerStats {
    uint64_t frames = 0;
    uint64_t bytes = 0;
    int64_t startUs = 0;             // monotonic, just before connect
    int64_t firstFrameUs = -1;       // monotonic arrival of the first whole part
    int64_t lastFrameUs = -1;
    std::vector<int64_t> latencyUs;  // wall-clock arrival minus X-Timestamp, per part
    uint64_t lastFrameNumber = 0;
    bool framesInOrder = true;
    bool closed = false;             // the server closed the connection
    std::string error;               // malformed stream, refused connection...
};

enum class StreamKind { Mjpeg, WebSocket };

class ViewerPool {
public:
    // receiveBuffer > 0 sets SO_RCVBUF before connecting (a small window, like a slow phone's).
    ViewerPool(int port, std::string target, bool keepBodies = false, int receiveBuffer = 0,
               StreamKind kind = StreamKind::Mjpeg);
    ~ViewerPool();

    // Connects n more viewers and sends their requests; returns the first new index.
    size_t open(size_t n);
    // Reads for durationMs (or until done() says so).
    void run(int durationMs, const std::function<bool()>& done = {});
    // A paused viewer stops reading: its socket buffers fill up, as with a stalled client.
    void pause(size_t index, bool paused);
    void close(size_t index);

    size_t size() const { return viewers_.size(); }
    const ViewerStats& stats(size_t index) const;
    std::vector<ViewerStats> allStats() const;
    std::function<void(size_t index, const Part&)> onPart;

private:
    struct Viewer;
    int port_;
    std::string target_;
    bool keepBodies_;
    int receiveBuffer_;
    StreamKind kind_;
    int epoll_;
    std::vector<std::unique_ptr<Viewer>> viewers_;
};

int64_t monotonicUs();
int64_t wallUs();
// p in [0,1] over a copy of values; 0 for none.
double percentile(std::vector<double> values, double p);

}  // namespace camrelay::testing
