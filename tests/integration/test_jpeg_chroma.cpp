// jpeg-chroma (issue 13): the JPEGs camrelay encodes are 4:2:0 unless a
// camera asks otherwise; read from the frame header of what a client gets.
#include "camera/jpeg_info.h"
#include "http_client.h"
#include "json_query.h"
#include "service_process.h"

#include <catch2/catch.hpp>

using namespace camrelay;
using namespace camrelay::testing;

namespace {
std::string snapshotChroma(const ServiceProcess& service, const std::string& id) {
    HttpResponse snap = httpRequest(service.port(), "GET", "/api/cameras/" + id + "/snapshot");
    REQUIRE(snap.status == 200);
    std::string why;
    auto info = inspectJpeg(snap.body, &why);
    INFO(why);
    REQUIRE(info);
    return info->chroma;
}
}  // namespace

TEST_CASE("the demo camera's snapshot is 4:2:0; jpeg-chroma=444 and auto keep 4:4:4", "[chroma][snapshot]") {
    // No pipelines dir: the shipped demo camera (1280x720, clockoverlay) as a new user gets it.
    ServiceProcess demo({}, {}, false);
    REQUIRE(demo.waitForState("demo", "live"));
    CHECK(snapshotChroma(demo, "demo") == "420");
    CHECK(jsonString(demo.cameraJson("demo"), "$.config.jpeg_chroma") == "420");

    // The demo's source offers Y444 first: without caps camrelay's encoder got 4:4:4.
    const std::string source = "[camera]\nsource=videotestsrc is-live=true pattern=ball\nwidth=320\nheight=240\nframerate=15\n";
    ServiceProcess cameras({{"full.conf", source + "jpeg-chroma=444\n"}, {"auto.conf", source + "jpeg-chroma=auto\n"},
                            {"half.conf", source + "jpeg-chroma=422\n"}});
    REQUIRE(cameras.waitForState("full", "live"));
    REQUIRE(cameras.waitForState("auto", "live"));
    REQUIRE(cameras.waitForState("half", "live"));
    CHECK(snapshotChroma(cameras, "full") == "444");
    CHECK(snapshotChroma(cameras, "auto") == "444");
    CHECK(snapshotChroma(cameras, "half") == "422");
}
