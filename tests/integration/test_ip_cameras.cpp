// IP camera kinds against real RTSP cameras (gst-rtsp-server helper):
// H.264 and H.265 are decoded and encoded once as JPEG; MJPEG over RTP is
// passed through as JPEG without a decoder or an encoder.
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "rtsp_camera.h"
#include "service_process.h"

#include <catch2/catch.hpp>

using namespace camrelay::testing;

TEST_CASE("H.264, H.265 and MJPEG-over-RTP cameras all stream; RTP MJPEG is passed through", "[ip-cameras]") {
    RtspCamera h264("h264", 320, 240, 30);
    RtspCamera h265("h265", 320, 240, 30);
    RtspCamera mjpeg("mjpeg", 320, 240, 30);
    ServiceProcess service({
        {"h264.conf", "[camera]\nsource=rtspsrc location=" + h264.url() + " protocols=tcp latency=0 ! rtph264depay ! h264parse\n"},
        {"h265.conf", "[camera]\nsource=rtspsrc location=" + h265.url() + " protocols=tcp latency=0\n"},
        {"mjpeg.conf", "[camera]\nsource=rtspsrc location=" + mjpeg.url() + " protocols=tcp latency=0 ! rtpjpegdepay\n"},
    });
    const std::map<std::string, std::string> kinds = {{"h264", "encoded"}, {"h265", "dynamic"}, {"mjpeg", "jpeg"}};
    for (const auto& [id, kind] : kinds) {
        INFO(id);
        REQUIRE(service.waitForState(id, "live", 15000));
        const std::string detail = service.cameraJson(id);
        CHECK(jsonString(detail, "$.source_kind") == kind);
        auto snap = httpRequest(service.port(), "GET", "/api/cameras/" + id + "/snapshot");
        REQUIRE(snap.status == 200);
        CHECK(decodeJpegSize(snap.body) == std::make_pair(320, 240));
    }
    CHECK_THAT(jsonString(service.cameraJson("mjpeg"), "$.pipeline"),
               Catch::Contains("rtpjpegdepay ! jpegparse ! tee"));  // no jpegdec, no jpegenc
}
