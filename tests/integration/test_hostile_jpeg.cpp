// A publisher pushing JPEG frame headers no decoder should be asked to
// allocate (issue 9): 65000x65000 in 996 bytes passed the gate, reached
// every viewer, the API reported its size and the RTSP encoder ended the
// session; 20000x20000 took the service from 47 to 574 MB.
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "service_process.h"
#include "ws_client.h"

#include <catch2/catch.hpp>

using namespace camrelay::testing;

namespace {

// A real JPEG with its frame header (SOF0) rewritten to say width x height:
// the bytes a hostile publisher sends. Everything else stays a valid image.
std::string withFrameSize(std::string jpeg, int width, int height) {
    for (size_t at = 2; at + 9 < jpeg.size();) {
        const auto marker = uint8_t(jpeg[at + 1]);
        const size_t length = (size_t(uint8_t(jpeg[at + 2])) << 8) | uint8_t(jpeg[at + 3]);
        if (marker == 0xc0) {
            jpeg[at + 5] = char(height >> 8);
            jpeg[at + 6] = char(height & 0xff);
            jpeg[at + 7] = char(width >> 8);
            jpeg[at + 8] = char(width & 0xff);
            return jpeg;
        }
        at += 2 + length;
    }
    throw std::runtime_error("no SOF0 in the test JPEG");
}

}  // namespace

TEST_CASE("frames larger than 8192x8192 or 40 Mpixel are refused at the JPEG gate", "[push][hostile]") {
    ServiceProcess service({{"door.conf", std::string("[camera]\nname=Door phone\nsource=push\n")}});
    REQUIRE(service.waitForState("door", "stopped"));
    WsClient publisher(service.port(), "/api/cameras/door/publish");
    REQUIRE(publisher.waitFor([&] { return !typed(publisher, "ready").empty(); }, 3000));
    const std::string good = makeTestJpeg(320, 240);
    for (int i = 0; i < 5; ++i) {
        publisher.sendBinary(good);
        publisher.waitFor([] { return false; }, 40);
    }
    REQUIRE(service.waitForState("door", "live", 3000));
    REQUIRE(waitUntil([&] { return jsonNumber(service.cameraJson("door"), "$.width") == 320; }, 3000));
    const long rssBefore = serviceRssKiB(service.pid());

    const std::vector<std::pair<int, int>> sizes = {{65000, 65000}, {20000, 20000}, {8192, 8192}, {8193, 240}};
    for (auto [w, h] : sizes) {
        const std::string hostile = withFrameSize(good, w, h);
        publisher.sendBinary(hostile);
        for (int i = 0; i < 3; ++i) publisher.sendBinary(hostile);  // repeated, as a flood would
    }
    REQUIRE(publisher.waitFor([&] { return typed(publisher, "error").size() >= 4 * sizes.size(); }, 5000));
    const auto errors = typed(publisher, "error");
    for (size_t i = 0; i < sizes.size(); ++i) {
        const std::string& e = errors[i * 4];
        INFO(e);
        CHECK(jsonString(e, "$.data.code") == "invalid_jpeg");
        CHECK_THAT(jsonString(e, "$.data.message"),
                   Catch::Contains(std::to_string(sizes[i].first) + "x" + std::to_string(sizes[i].second) +
                                   " pixels; the limit is 8192x8192 and 40000000 pixels"));
    }
    CHECK_FALSE(publisher.closed());  // refused frames, not a refused publisher

    // Nothing of them reached the camera: size unchanged, the last good frame served.
    const std::string detail = service.cameraJson("door");
    CHECK(jsonString(detail, "$.state") == "live");
    CHECK(jsonNumber(detail, "$.width") == 320);
    CHECK(jsonNumber(detail, "$.height") == 240);
    auto snap = httpRequest(service.port(), "GET", "/api/cameras/door/snapshot");
    CHECK(snap.status == 200);
    CHECK(snap.body == good);
    const long rssAfter = serviceRssKiB(service.pid());
    WARN("RSS " << rssBefore << " -> " << rssAfter << " kB after 16 oversized frames");
    CHECK(rssAfter - rssBefore < 20 * 1024);

    // Ordinary frames still go through.
    publisher.sendBinary(makeTestJpeg(640, 480));
    REQUIRE(waitUntil([&] { return jsonNumber(service.cameraJson("door"), "$.width") == 640; }, 3000));
}
