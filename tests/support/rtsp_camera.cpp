#include "rtsp_camera.h"

#include <signal.h>

#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace camrelay::testing {

RtspCamera::RtspCamera(std::string codec, int width, int height, int fps)
    : codec_(std::move(codec)), width_(width), height_(height), fps_(fps) {
    start();
}

std::string RtspCamera::url(const std::string& credentials) const {
    return "rtsp://" + (credentials.empty() ? "" : credentials + "@") + "127.0.0.1:" + std::to_string(port_) + "/cam";
}

void RtspCamera::start() {
    const char* binary = std::getenv("CAMRELAY_RTSP_CAMERA");
    if (!binary) throw std::runtime_error("CAMRELAY_RTSP_CAMERA is not set (run the tests with meson test)");
    // A restart may find the port briefly held by the last run's sockets: retry.
    for (int tries = 0; tries < 50; ++tries) {
        process_ = ChildProcess({binary, "--port", std::to_string(port_), "--codec", codec_, "--width",
                                 std::to_string(width_), "--height", std::to_string(height_), "--fps",
                                 std::to_string(fps_)},
                                dir_.path() + "/camera.out", dir_.path() + "/camera.err");
        const std::string port = process_.waitForOutput(R"(ready rtsp://127\.0\.0\.1:(\d+)/cam)", 5000);
        if (!port.empty()) {
            port_ = std::stoi(port);
            return;
        }
        process_.stop();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("the RTSP test camera did not start: " + readTextFile(dir_.path() + "/camera.err"));
}

void RtspCamera::stop() { process_.stop(); }
void RtspCamera::kill() { process_.kill(); }
void RtspCamera::pause() { process_.signal(SIGSTOP); }
void RtspCamera::resume() { process_.signal(SIGCONT); }

int RtspCamera::countLines(const std::string& prefix) const {
    std::istringstream in(process_.output());
    std::string line;
    int n = 0;
    while (std::getline(in, line)) n += line.rfind(prefix, 0) == 0;
    return n;
}

int RtspCamera::connections() const { return countLines("client-connected "); }
int RtspCamera::mediaCreated() const { return countLines("media-created "); }

}  // namespace camrelay::testing
