#include "multipart_reader.h"

#include <catch2/catch.hpp>

#include <vector>

using namespace camrelay::testing;

namespace {
const std::string kStream =
    "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\n\r\n--b\r\n"
    "Content-Type: image/jpeg\r\nContent-Length: 3\r\nX-Timestamp: 10.5\r\nX-Frame-Number: 1\r\n\r\nabc\r\n--b\r\n"
    "Content-Type: image/jpeg\r\nContent-Length: 5\r\nX-Timestamp: 11.25\r\nX-Frame-Number: 2\r\n\r\nhello\r\n--b\r\n";
}

TEST_CASE("the test reader parses parts fed byte by byte or at once", "[support]") {
    for (bool keep : {true, false}) {
        for (size_t chunk : {size_t(1), size_t(7), kStream.size()}) {
            std::vector<Part> parts;
            MultipartReader reader([&](const Part& p) { parts.push_back(p); }, keep);
            for (size_t i = 0; i < kStream.size(); i += chunk)
                REQUIRE(reader.feed(kStream.data() + i, std::min(chunk, kStream.size() - i)));
            REQUIRE(parts.size() == 2);
            CHECK(parts[0].contentLength == 3);
            CHECK(parts[0].timestampUs == 10500000);
            CHECK(parts[1].frameNumber == 2);
            CHECK(parts[1].body == (keep ? "hello" : ""));
        }
    }
}

TEST_CASE("the test reader rejects a body longer than its Content-Length", "[support]") {
    std::string bad = kStream;
    bad.replace(bad.find("abc"), 3, "abcd");
    MultipartReader reader([](const Part&) {});
    CHECK_FALSE(reader.feed(bad.data(), bad.size()));
    CHECK_THAT(reader.error(), Catch::Contains("longer than its Content-Length"));
}
