// docs/integrations.md cannot drift from the service: every http(s):// and
// rtsp:// URL it shows on HOST or localhost is requested against the real
// binary (auth on, placeholders filled in) and must answer what the doc
// promises: 200 with the right Content-Type, MJPEG and JPEG that decode,
// RTSP that ffprobe finds H.264 in.
#include "child_process.h"
#include "core/files.h"
#include "http_client.h"
#include "jpeg_decode.h"
#include "json_query.h"
#include "service_process.h"

#include <catch2/catch.hpp>
#include <glib.h>

#include <regex>
#include <set>

using namespace camrelay;
using namespace camrelay::testing;

namespace {

std::string sourceRoot() {
    const char* root = std::getenv("CAMRELAY_SOURCE_ROOT");
    REQUIRE(root);
    return root;
}

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

// Every URL on this service's placeholders (HOST, localhost), in order of appearance, once each.
std::vector<std::string> documentedUrls(const std::string& text) {
    static const std::regex url(R"((https?|rtsp)://[^\s"'<>`)\]|,]+)");
    static const std::regex ours(R"(^(https?|rtsp)://([^/@]+@)?(HOST|localhost|127\.0\.0\.1)(:\d+)?(/|$))");
    std::vector<std::string> urls;
    std::set<std::string> seen;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), url); it != std::sregex_iterator(); ++it) {
        std::string u = it->str();
        while (!u.empty() && (u.back() == '.' || u.back() == ':')) u.pop_back();  // the sentence's, not the URL's
        if (std::regex_search(u, ours) && seen.insert(u).second) urls.push_back(u);
    }
    return urls;
}

}  // namespace

TEST_CASE("every URL docs/integrations.md shows answers as the doc says", "[compat][docs]") {
    std::string error;
    const auto doc = readFile(sourceRoot() + "/docs/integrations.md", &error);
    REQUIRE(doc);
    const std::vector<std::string> urls = documentedUrls(*doc);
    // The clients the doc covers, each with a URL of its own.
    REQUIRE(urls.size() >= 12);

    TempDir dir;
    const std::string config = viewerAuthConfig(dir);
    // Two cameras: the doc shows /?action=stream_1 (the second one).
    ServiceProcess service({{"demo.conf", demoCamera(320, 240, 30)}, {"yard.conf", demoCamera(320, 240, 30)}},
                           {"--config", config});
    const std::string basic = basicAuth("vic:viewer-pw");
    service.setRequestHeaders(basic);
    REQUIRE(service.waitForState("demo", "live"));
    REQUIRE(service.rtspPort() > 0);
    HttpResponse issued = httpRequest(service.port(), "POST", "/api/cameras/demo/token", "", basic);
    REQUIRE(issued.status == 200);
    const std::string token = jsonString(issued.body, "$.token");

    size_t http = 0, rtsp = 0;
    for (const std::string& documented : urls) {
        std::string url = replaceAll(documented, "USER:PASSWORD", "vic:viewer-pw");
        url = replaceAll(url, "TOKEN", token);
        url = replaceAll(url, "HOST:8080", "127.0.0.1:" + std::to_string(service.port()));
        url = replaceAll(url, "HOST:8554", "127.0.0.1:" + std::to_string(service.rtspPort()));
        url = replaceAll(url, "localhost:8080", "127.0.0.1:" + std::to_string(service.port()));
        INFO(documented << "\n  requested as " << url);
        if (url.rfind("rtsp://", 0) == 0) {
            ++rtsp;
            auto [code, out] = runCommand("ffprobe -v error -rtsp_transport tcp -select_streams v:0 -show_entries "
                                          "stream=codec_name,width,height -of csv=p=0 '" + url + "' 2>&1");
            CHECK(code == 0);
            CHECK(out == "h264,320,240\n");
            continue;
        }
        ++http;
        const std::smatch target = [&] {
            std::smatch m;
            REQUIRE(std::regex_match(url, m, std::regex(R"(^http://[^/]+(/.*)?$)")));
            return m;
        }();
        std::string path = target[1].matched ? target[1].str() : "/";
        // A password in the doc goes as HTTP Basic (Home Assistant's username/password fields);
        // a URL with ?token= goes without any other credential.
        const std::string credentials = path.find("token=") != std::string::npos ? "" : basic;
        if (path.size() >= 6 && path.compare(path.size() - 6, 6, "/token") == 0) {  // shown with curl -X POST
            CHECK(httpRequest(service.port(), "POST", path, "", credentials).status == 200);
            continue;
        }
        const bool stream = std::regex_search(path, std::regex(R"((/stream|action=stream)(\?|&|_|$))"));
        if (stream) {
            // ffprobe reads it with the demuxer the real Content-Type picks; credentials as the client sends them.
            const std::string withAuth = credentials.empty() || url.find('@') != std::string::npos
                                             ? url : replaceAll(url, "http://", "http://vic:viewer-pw@");
            auto [code, out] = runCommand("ffprobe -v error -rw_timeout 5000000 -select_streams v:0 -show_entries "
                                          "stream=codec_name,width,height -of csv=p=0 '" + withAuth + "' 2>&1");
            CHECK(code == 0);
            CHECK(out == "mjpeg,320,240\n");
            continue;
        }
        HttpResponse r = httpRequest(service.port(), "GET", path, "", credentials);
        CHECK(r.status == 200);
        if (path.find("snapshot") != std::string::npos) {
            CHECK(r.headers["content-type"] == "image/jpeg");
            CHECK(decodeJpegSize(r.body) == std::make_pair(320, 240));
        } else if (path.rfind("/state", 0) == 0) {
            CHECK_THAT(r.headers["content-type"], Catch::StartsWith("application/json"));
            CHECK(jsonBool(r.body, "$.ok"));
        } else {
            FAIL("docs/integrations.md shows a URL this test does not know how to check: " << documented);
        }
    }
    CHECK(http >= 10);
    CHECK(rtsp >= 2);  // with a password and with a token
}
