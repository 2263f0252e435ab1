// Hot apply (issue 12): Camera::reconfigure with real GStreamer pipelines and a
// real Registry, on this thread's default main context.
#include <catch2/catch.hpp>

#include "camera/pipeline_run.h"
#include "camera/registry.h"
#include "config/camera_config.h"
#include "core/clock.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <vector>

using namespace camrelay;

namespace {

CameraConfigLoad load(const std::string& body) {
    return parseCameraConfig("cam", "pipelines/cam.conf", "[camera]\n" + body);
}

// Runs the loop until pred() holds or ms pass; true when it held.
bool runUntil(int ms, const std::function<bool()>& pred) {
    const int64_t end = monotonicNowUs() + int64_t(ms) * 1000;
    while (monotonicNowUs() < end) {
        if (pred()) return true;
        g_main_context_iteration(nullptr, FALSE);
        g_usleep(2000);
    }
    return pred();
}

void runFor(int ms) {
    runUntil(ms, [] { return false; });
}

struct FrameLog {
    std::vector<FramePtr> frames;
    std::vector<int64_t> atUs;
    Connection connection;
    explicit FrameLog(Camera& camera) {
        connection = camera.onFrame([this](const FramePtr& f) {
            frames.push_back(f);
            atUs.push_back(monotonicNowUs());
        });
    }
    int64_t maxGapUs(size_t from = 0) const {
        int64_t gap = 0;
        for (size_t i = from + 1; i < atUs.size(); ++i) gap = std::max(gap, atUs[i] - atUs[i - 1]);
        return gap;
    }
};

const std::string kBall = "source=videotestsrc is-live=true pattern=ball\nwidth=320\nheight=240\nframerate=15\n";

}  // namespace

TEST_CASE("hot apply: a live camera switches to a new pattern and size without a gap", "[hot-apply]") {
    Registry registry;
    CameraPtr camera = registry.add(load(kBall));
    int reconfigured = 0;
    Connection c = camera->onReconfigured([&] { ++reconfigured; });
    REQUIRE(camera->start());
    REQUIRE(runUntil(5000, [&] { return camera->state() == CameraState::Live; }));
    FrameLog log(*camera);
    runFor(500);
    REQUIRE(!log.frames.empty());
    CHECK(log.frames.back()->width() == 320);

    camera->reconfigure(load("source=videotestsrc is-live=true pattern=smpte\nwidth=160\nheight=120\nframerate=15\n").config);
    CHECK(camera->applying());
    REQUIRE(runUntil(5000, [&] { return !log.frames.empty() && log.frames.back()->width() == 160; }));
    runFor(700);

    CHECK(reconfigured == 1);
    CHECK_FALSE(camera->applying());
    CHECK(camera->applyError().empty());
    CHECK(camera->state() == CameraState::Live);
    CHECK(camera->config().source.find("smpte") != std::string::npos);
    CHECK(log.maxGapUs() < 500000);
    bool newSize = false;
    for (size_t i = 0; i < log.frames.size(); ++i) {
        CHECK_FALSE(log.frames[i]->isPlaceholder());
        if (i > 0) CHECK(log.frames[i]->number() > log.frames[i - 1]->number());
        // Once the new run's frames come, no old-size frame follows.
        if (newSize) CHECK(log.frames[i]->width() == 160);
        newSize = newSize || log.frames[i]->width() == 160;
    }
    CHECK(log.frames.back()->height() == 120);
}

TEST_CASE("hot apply: a new pipeline that fails at run time leaves the old one running", "[hot-apply]") {
    Registry registry;
    CameraPtr camera = registry.add(load(kBall));
    int reconfigured = 0;
    Connection c = camera->onReconfigured([&] { ++reconfigured; });
    std::vector<std::string> events;
    Connection e = camera->onEvent([&](const CameraEvent& ev) { events.push_back(ev.type); });
    REQUIRE(camera->start());
    REQUIRE(runUntil(5000, [&] { return camera->state() == CameraState::Live; }));
    GstElement* before = camera->runningPipeline();

    camera->reconfigure(load("source=filesrc location=/nonexistent/camrelay.mjpeg ! jpegparse\n").config);
    REQUIRE(runUntil(5000, [&] { return !camera->applyError().empty(); }));
    INFO(camera->applyError());
    CHECK(camera->applyError().find("filesrc") != std::string::npos);
    CHECK(camera->applyError().find("filesrc") == 0);  // "filesrcN: <GStreamer's own words>"
    CHECK(camera->applyError().find("not found") != std::string::npos);
    CHECK_FALSE(camera->applying());
    CHECK(std::count(events.begin(), events.end(), "apply-error") == 1);

    FrameLog log(*camera);
    runFor(1000);
    CHECK(camera->state() == CameraState::Live);
    CHECK(camera->runningPipeline() == before);
    CHECK(camera->config().source.find("ball") != std::string::npos);
    CHECK(reconfigured == 0);
    REQUIRE(log.frames.size() >= 5);
    CHECK(log.frames.back()->width() == 320);
    CHECK_FALSE(log.frames.back()->isPlaceholder());
}

TEST_CASE("hot apply: a stopped camera takes the new config at once", "[hot-apply]") {
    Registry registry;
    CameraPtr camera = registry.add(load(kBall + "enabled=false\n"));
    int reconfigured = 0;
    Connection c = camera->onReconfigured([&] { ++reconfigured; });
    REQUIRE(camera->state() == CameraState::Stopped);
    camera->reconfigure(load("source=videotestsrc is-live=true pattern=snow\nenabled=false\n").config);
    CHECK(reconfigured == 1);
    CHECK(camera->config().source.find("snow") != std::string::npos);
    CHECK(camera->pipelineText().find("snow") != std::string::npos);
    CHECK(camera->state() == CameraState::Stopped);
    CHECK_FALSE(camera->applying());
    CHECK(camera->runningPipeline() == nullptr);

    // Enabled in the new config: taken over and started.
    camera->reconfigure(load("source=videotestsrc is-live=true pattern=snow\n").config);
    CHECK(reconfigured == 2);
    CHECK(runUntil(5000, [&] { return camera->state() == CameraState::Live; }));
}

TEST_CASE("hot apply: a camera that failed on an invalid config starts with a valid one", "[hot-apply]") {
    Registry registry;
    CameraPtr camera = registry.add(load("source=nosuchelement0815\n"));
    REQUIRE(camera->state() == CameraState::Failed);
    camera->reconfigure(load(kBall).config);
    CHECK(camera->configValid());
    CHECK(runUntil(5000, [&] { return camera->state() == CameraState::Live; }));
}

TEST_CASE("hot apply: an equal config changes nothing", "[hot-apply]") {
    Registry registry;
    CameraPtr camera = registry.add(load(kBall));
    int reconfigured = 0;
    Connection c = camera->onReconfigured([&] { ++reconfigured; });
    std::vector<std::string> events;
    REQUIRE(camera->start());
    REQUIRE(runUntil(5000, [&] { return camera->state() == CameraState::Live; }));
    Connection e = camera->onEvent([&](const CameraEvent& ev) { events.push_back(ev.type); });
    GstElement* before = camera->runningPipeline();
    camera->reconfigure(load(kBall).config);
    CHECK_FALSE(camera->applying());
    runFor(300);
    CHECK(reconfigured == 0);
    CHECK(events.empty());
    CHECK(camera->runningPipeline() == before);
    CHECK(camera->state() == CameraState::Live);

    // One field differs: no longer equal.
    CameraConfig other = load(kBall).config;
    CHECK(other == camera->config());
    other.record.segmentSec += 1;
    CHECK_FALSE(other == camera->config());
}

TEST_CASE("hot apply: a new pipeline without a first frame in its start-timeout leaves the old one", "[hot-apply]") {
    Registry registry;
    CameraPtr camera = registry.add(load(kBall));
    int reconfigured = 0;
    Connection c = camera->onReconfigured([&] { ++reconfigured; });
    REQUIRE(camera->start());
    REQUIRE(runUntil(5000, [&] { return camera->state() == CameraState::Live; }));
    GstElement* before = camera->runningPipeline();
    FrameLog log(*camera);

    camera->reconfigure(load("source=videotestsrc is-live=true ! video/x-raw,width=160,height=120 ! identity drop-probability=1.0\n"
                             "start-timeout=1\n").config);
    REQUIRE(camera->applying());
    REQUIRE(runUntil(4000, [&] { return !camera->applyError().empty(); }));
    INFO(camera->applyError());
    CHECK(camera->applyError().find("no first frame within 1 s") != std::string::npos);
    CHECK_FALSE(camera->applying());
    runFor(500);
    CHECK(camera->state() == CameraState::Live);
    CHECK(camera->runningPipeline() == before);
    CHECK(reconfigured == 0);
    CHECK(log.maxGapUs() < 500000);
    REQUIRE(!log.frames.empty());
    CHECK(log.frames.back()->width() == 320);
}

TEST_CASE("hot apply: H.264 source to raw keeps an H.264 claim's tap fed (encoder started)", "[hot-apply]") {
    Registry registry;
    CameraPtr camera = registry.add(load("source=videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=15/1"
                                         " ! x264enc tune=zerolatency key-int-max=15 ! h264parse\n"));
    REQUIRE(camera->start());
    REQUIRE(camera->h264().passthrough());
    H264Stream::Claim claim = camera->h264().claim();
    std::atomic<int> units{0};
    std::atomic<int> keyUnits{0};
    const int listener = camera->h264().tap().add([&](GstBuffer* unit) {
        ++units;
        if (!GST_BUFFER_FLAG_IS_SET(unit, GST_BUFFER_FLAG_DELTA_UNIT)) ++keyUnits;
    });
    REQUIRE(runUntil(5000, [&] { return units.load() > 10; }));
    REQUIRE(camera->state() == CameraState::Live);

    int reconfigured = 0;
    Connection c = camera->onReconfigured([&] { ++reconfigured; });
    camera->reconfigure(load(kBall).config);
    REQUIRE(runUntil(5000, [&] { return reconfigured == 1; }));
    CHECK_FALSE(camera->h264().passthrough());
    CHECK(camera->h264().encoding());
    CHECK(camera->h264().claims() == 1);
    const int afterPromotion = units.load();
    const int keysAfterPromotion = keyUnits.load();
    CHECK(runUntil(5000, [&] { return units.load() > afterPromotion + 10 && keyUnits.load() > keysAfterPromotion; }));
    CHECK(camera->state() == CameraState::Live);
    CHECK(camera->jpegConsumers() == 1);  // the encoder's claim now wants JPEG

    claim.reset();
    CHECK_FALSE(camera->h264().encoding());
    camera->h264().tap().remove(listener);
}

TEST_CASE("hot apply: sources on one device are applied one after the other", "[hot-apply]") {
    CHECK(sourcesShareDevice("v4l2src device=/dev/video0 ! image/jpeg", "v4l2src device=/dev/video0 ! video/x-raw"));
    CHECK(sourcesShareDevice("v4l2src device=\"/dev/video2\"", "v4l2src io-mode=2 device=/dev/video2 ! jpegdec"));
    CHECK(sourcesShareDevice("libcamerasrc", "libcamerasrc camera-name=/base/soc ! video/x-raw"));
    CHECK_FALSE(sourcesShareDevice("v4l2src device=/dev/video0", "v4l2src device=/dev/video1"));
    CHECK_FALSE(sourcesShareDevice("v4l2src device=/dev/video0", "videotestsrc is-live=true"));
    CHECK_FALSE(sourcesShareDevice("rtspsrc location=rtsp://a/device=1", "rtspsrc location=rtsp://b/device=1x"));
}

// The device= rule is textual, so a caps field named device stands in for a
// camera device here: both test sources "use" device cam0.
TEST_CASE("hot apply: one device: stop the old, start the new, restore the old when the new fails", "[hot-apply]") {
    Registry registry;
    CameraPtr camera = registry.add(load("source=videotestsrc is-live=true pattern=ball ! video/x-raw, device=(string)cam0\n"
                                         "width=320\nheight=240\n"));
    int reconfigured = 0;
    Connection c = camera->onReconfigured([&] { ++reconfigured; });
    std::vector<std::string> events;
    Connection e = camera->onEvent([&](const CameraEvent& ev) { events.push_back(ev.type); });
    REQUIRE(camera->start());
    REQUIRE(runUntil(5000, [&] { return camera->state() == CameraState::Live; }));

    camera->reconfigure(load("source=videotestsrc is-live=true pattern=smpte ! video/x-raw, device=(string)cam0\n"
                             "width=160\nheight=120\n").config);
    CHECK_FALSE(camera->applying());  // no trial beside the old one
    CHECK(reconfigured == 1);
    REQUIRE(runUntil(5000, [&] { return camera->state() == CameraState::Live && camera->latestFrame() &&
                                        camera->latestFrame()->width() == 160; }));
    CHECK(std::count(events.begin(), events.end(), "apply") == 1);
    CHECK(camera->applyError().empty());

    camera->reconfigure(load("source=filesrc location=/nonexistent/cam0.mjpeg ! jpegparse ! image/jpeg, device=(string)cam0\n").config);
    REQUIRE(runUntil(5000, [&] { return !camera->applyError().empty(); }));
    INFO(camera->applyError());
    CHECK(camera->applyError().find("filesrc") == 0);
    CHECK(reconfigured == 3);  // to the new config, and back
    CHECK(camera->config().source.find("smpte") != std::string::npos);
    REQUIRE(runUntil(5000, [&] { return camera->state() == CameraState::Live && camera->latestFrame() &&
                                        camera->latestFrame()->width() == 160; }));
    CHECK(camera->applyError().find("filesrc") == 0);  // still says why
}

TEST_CASE("hot apply: a second config while one is on trial replaces the trial", "[hot-apply]") {
    Registry registry;
    CameraPtr camera = registry.add(load(kBall));
    int reconfigured = 0;
    Connection c = camera->onReconfigured([&] { ++reconfigured; });
    REQUIRE(camera->start());
    REQUIRE(runUntil(5000, [&] { return camera->state() == CameraState::Live; }));
    // Never shows a frame: stays on trial until its 5 s start-timeout...
    camera->reconfigure(load("source=videotestsrc is-live=true ! video/x-raw,width=160,height=120 ! identity drop-probability=1.0\n"
                             "start-timeout=5\n").config);
    REQUIRE(camera->applying());
    // ... unless a newer config comes first.
    camera->reconfigure(load("source=videotestsrc is-live=true pattern=smpte\nwidth=160\nheight=120\n").config);
    REQUIRE(runUntil(5000, [&] { return reconfigured == 1; }));
    CHECK_FALSE(camera->applying());
    CHECK(camera->config().source.find("smpte") != std::string::npos);
    runFor(300);
    CHECK(camera->applyError().empty());
    CHECK(reconfigured == 1);
    CHECK(camera->state() == CameraState::Live);
}
