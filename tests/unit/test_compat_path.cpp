// The mjpg-streamer / ustreamer URL parser and which camera it serves (src/http/compat_path.h).
#include "http/compat_path.h"

#include <catch2/catch.hpp>

using namespace camrelay;

TEST_CASE("compatibility URLs parse to a kind, a camera number or a camera id", "[compat]") {
    CHECK(parseCompatRequest("/", "stream", "").kind == CompatKind::Stream);
    CHECK(parseCompatRequest("/", "snapshot", "").kind == CompatKind::Snapshot);
    CHECK(parseCompatRequest("/stream", "", "").kind == CompatKind::Stream);
    CHECK(parseCompatRequest("/snapshot", "", "").kind == CompatKind::Snapshot);
    CHECK(parseCompatRequest("/state", "", "").kind == CompatKind::State);
    const CompatRequest second = parseCompatRequest("/", "snapshot_1", "");
    CHECK(second.kind == CompatKind::Snapshot);
    REQUIRE(second.index);
    CHECK(*second.index == 1);
    CHECK(*parseCompatRequest("/", "stream_0", "").index == 0);
    CHECK(*parseCompatRequest("/", "stream_9999", "").index == 9999);
    CHECK_FALSE(parseCompatRequest("/", "stream", "").index);
    CHECK(parseCompatRequest("/", "stream", "yard").camera == "yard");
    // Not compatibility URLs: "/" then serves the page.
    for (const char* action : {"", "foo", "stream_", "_1", "stream_a", "stream_1a", "stream_12345", "stream__1",
                               "Stream", "snapshot_+1", "command", "stream 1"}) {
        INFO(action);
        CHECK(parseCompatRequest("/", action, "").kind == CompatKind::None);
        CHECK_FALSE(isCompatAction(action));
    }
    for (const char* path : {"/stream/", "/stream/x", "/streams", "//stream", "/index.html", "/api/stream"}) {
        INFO(path);
        CHECK(parseCompatRequest(path, "stream", "").kind == CompatKind::None);
        CHECK_FALSE(isCompatPath(path));
    }
}

TEST_CASE("a compatibility URL serves ?camera=, else the N-th camera, else the default, else the first", "[compat]") {
    const std::vector<std::string> ids = {"demo", "garage", "yard"};
    const auto serve = [&](const char* path, const char* action, const char* camera, const std::string& fallback = "") {
        return resolveCompatCamera(parseCompatRequest(path, action, camera), ids, fallback);
    };
    CHECK(serve("/", "stream", "").cameraId == "demo");
    CHECK(serve("/stream", "", "").cameraId == "demo");
    CHECK(serve("/", "stream", "", "yard").cameraId == "yard");
    CHECK(serve("/", "stream_1", "", "yard").cameraId == "garage");
    CHECK(serve("/", "snapshot_2", "").cameraId == "yard");
    CHECK(serve("/", "stream_1", "yard").cameraId == "yard");  // ?camera= wins
    CHECK(serve("/state", "", "garage").cameraId == "garage");

    const CompatTarget outOfRange = serve("/", "stream_3", "");
    CHECK(outOfRange.cameraId.empty());
    CHECK_THAT(outOfRange.error, Catch::Contains("no camera number 3") && Catch::Contains("there are 3"));
    const CompatTarget unknown = serve("/snapshot", "", "porch");
    CHECK(unknown.cameraId.empty());
    CHECK_THAT(unknown.error, Catch::Contains("\"porch\""));
    const CompatTarget hostile = serve("/snapshot", "", "../../etc\"<x>");
    CHECK(hostile.cameraId.empty());
    CHECK_THAT(hostile.error, !Catch::Contains("etc"));  // never quoted back
    const CompatTarget missingDefault = serve("/stream", "", "", "porch");
    CHECK_THAT(missingDefault.error, Catch::Contains("\"porch\"") && Catch::Contains("default-camera"));
    CHECK_THAT(resolveCompatCamera(parseCompatRequest("/stream", "", ""), {}, "").error, Catch::Contains("no cameras"));
}
