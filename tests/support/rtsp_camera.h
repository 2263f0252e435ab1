#pragma once
// The stand-in IP camera (camrelay-test-rtsp-camera, built with
// gst-rtsp-server) as a test fixture: started on a free port, then stopped,
// killed, paused (hung without an error) and restarted on the same port.
#include "child_process.h"
#include "service_process.h"

#include <string>

namespace camrelay::testing {

class RtspCamera {
public:
    // codec: "h264", "h265" or "mjpeg". Starts at once; throws if it cannot.
    explicit RtspCamera(std::string codec = "h264", int width = 320, int height = 240, int fps = 30);

    int port() const { return port_; }
    // rtsp://[credentials@]127.0.0.1:<port>/cam
    std::string url(const std::string& credentials = "") const;
    void start();   // again, on the same port
    void stop();    // clean shutdown
    void kill();    // power cut
    void pause();   // SIGSTOP: the camera hangs, connections stay open, no error
    void resume();
    bool running() const { return process_.running(); }
    // RTSP client connections / encoder pipelines created in the current run.
    int connections() const;
    int mediaCreated() const;
    std::string output() const { return process_.output(); }

private:
    int countLines(const std::string& prefix) const;

    std::string codec_;
    int width_, height_, fps_;
    TempDir dir_;
    int port_ = 0;
    ChildProcess process_;
};

}  // namespace camrelay::testing
