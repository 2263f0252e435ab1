// Hostile text and images at the output and ingest gates (issue 9):
// JSON the service writes is valid whatever its strings hold, and the JPEG
// gate refuses frame headers no decoder should be asked to allocate.
#include "camera/jpeg_info.h"
#include "core/json_text.h"
#include "http/json.h"
#include "child_process.h"
#include "service_process.h"

#include <catch2/catch.hpp>
#include <json-glib/json-glib.h>

#include <algorithm>

using namespace camrelay;
using namespace camrelay::testing;

namespace {

bool jsonGlibParses(const std::string& text) {
    JsonParser* parser = json_parser_new();
    const bool ok = json_parser_load_from_data(parser, text.data(), gssize(text.size()), nullptr);
    g_object_unref(parser);
    return ok;
}

// Python's json module is as strict as browsers: raw control characters and
// invalid UTF-8 inside strings are errors.
bool pythonParses(const std::string& text) {
    TempDir dir;
    const std::string path = dir.write("doc.json", text);
    auto [code, output] = runCommand("python3 -c 'import json,sys; json.load(sys.stdin.buffer)' < " + path);
    if (code != 0) UNSCOPED_INFO("python3: " << output);
    return code == 0;
}

// Every byte 0x01-0x1F and 0x7F (0x00 cannot reach a C string), and UTF-8
// that is broken in every way we know: lone continuation bytes, truncated
// sequences at the end, overlong forms, surrogates, past U+10FFFF, 0xFE/0xFF.
std::vector<std::string> hostileStrings() {
    std::vector<std::string> out;
    std::string all;
    for (int c = 0; c < 0x20; ++c) {
        out.push_back(std::string("a") + char(c) + "b");
        all += char(c);
    }
    all += '\x7f';
    out.push_back(all);
    out.push_back("HTTP/1.1 404 Camera\x1fGone");
    out.push_back("\x80\xbf");
    out.push_back("x\xc3");
    out.push_back("x\xe2\x82");
    out.push_back("x\xf0\x9f\x98");
    out.push_back("\xc0\xaf");              // overlong '/'
    out.push_back("\xed\xa0\x80");          // surrogate
    out.push_back("\xf4\x90\x80\x80");      // past U+10FFFF
    out.push_back("\xfe\xff");
    out.push_back("q\xc3\"z\\\xf0\"");      // broken sequences next to escapes
    out.push_back("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb7");  // valid UTF-8 stays as it is
    std::string random;
    uint32_t seed = 9;
    for (int i = 0; i < 4096; ++i) {
        seed = seed * 1103515245 + 12345;
        random += char((seed >> 16) & 0xff);
    }
    out.push_back(random.c_str());  // up to its first NUL
    out.push_back(random.substr(random.find('\0') + 1).c_str());
    return out;
}

// A ~1 KB baseline JPEG skeleton whose frame header says width x height:
// the gate reads headers only, which is what a hostile publisher exploits.
std::string craftedJpeg(int width, int height) {
    std::string j = "\xff\xd8";                                        // SOI
    j += std::string("\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 18);  // APP0
    j += std::string("\xff\xc0\x00\x11\x08", 5);                        // SOF0, 8-bit
    j += char(height >> 8);
    j += char(height & 0xff);
    j += char(width >> 8);
    j += char(width & 0xff);
    j += std::string("\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01", 10);  // Y 2x2, Cb, Cr
    const std::string filler(951, 'x');
    j += "\xff\xfe";                                                    // COM segment
    j += char((filler.size() + 2) >> 8);
    j += char((filler.size() + 2) & 0xff);
    j += filler;
    j += "\xff\xd9";                                                    // EOI
    return j;
}

}  // namespace

TEST_CASE("JSON output is valid whatever its strings hold", "[json][hostile]") {
    for (const std::string& s : hostileStrings()) {
        INFO("string of " << s.size() << " bytes");
        JsonObjectValue o;
        o.set("error", s).set("name", s.c_str());
        o.set(s.c_str(), int64_t(1));  // member names too
        JsonObjectValue nested;
        nested.set("message", s);
        o.append("events", std::move(nested));
        const std::string text = o.toString();
        CHECK(std::none_of(text.begin(), text.end(), [](char c) { return uint8_t(c) < 0x20 || uint8_t(c) == 0x7f; }));
        CHECK(g_utf8_validate(text.data(), gssize(text.size()), nullptr));
        CHECK(jsonGlibParses(text));
    }
    // One document holding all of them, through Python (one process, not 50).
    JsonObjectValue all;
    int i = 0;
    for (const std::string& s : hostileStrings()) {
        JsonObjectValue item;
        item.set("text", s);
        all.append("items", std::move(item));
        all.set(("k" + std::to_string(i++) + s).c_str(), s);
    }
    const std::string text = all.toString();
    CHECK(jsonGlibParses(text));
    CHECK(pythonParses(text));

    // What was escaped reads back as the same characters.
    JsonObjectValue gone;
    gone.set("error", "HTTP/1.1 404 Camera\x1fGone");
    CHECK(gone.toString() == R"({"error":"HTTP/1.1 404 Camera\u001fGone"})");
    JsonObjectValue fine;
    fine.set("name", "caf\xc3\xa9\tok");
    CHECK(fine.toString() == "{\"name\":\"caf\xc3\xa9\\tok\"}");
}

TEST_CASE("the JSON repair leaves text outside strings and valid strings alone", "[json][hostile]") {
    CHECK(makeJsonTextValid("{\n  \"a\" : [1, 2]\n}") == "{\n  \"a\" : [1, 2]\n}");
    CHECK(makeJsonTextValid("\"a\\\"\x01\"") == "\"a\\\"\\u0001\"");
    CHECK(makeJsonTextValid("\"\xff\"") == "\"\xef\xbf\xbd\"");
}

TEST_CASE("the JPEG gate refuses frame headers larger than the limit", "[push][hostile]") {
    std::string why;
    // The issue's inputs: 65000x65000 ended the RTSP session, 20000x20000 took 527 MB.
    for (auto [w, h] : {std::pair{65000, 65000}, std::pair{20000, 20000}, std::pair{8193, 100},
                        std::pair{100, 8193}, std::pair{8192, 8192}}) {
        const std::string jpeg = craftedJpeg(w, h);
        INFO(w << "x" << h << ", " << jpeg.size() << " bytes");
        CHECK_FALSE(inspectJpeg(jpeg, &why));
        CHECK_THAT(why, Catch::Contains(std::to_string(w) + "x" + std::to_string(h)));
        CHECK_THAT(why, Catch::Contains("limit is 8192x8192 and 40000000 pixels"));
    }
    CHECK(craftedJpeg(65000, 65000).size() == 996);
    // At the limits: 8192 on a side, and 8192x4882 = 39,993,344 pixels.
    for (auto [w, h] : {std::pair{8192, 4882}, std::pair{4882, 8192}, std::pair{7680, 4320}, std::pair{16, 16}}) {
        auto info = inspectJpeg(craftedJpeg(w, h), &why);
        INFO(w << "x" << h << ": " << why);
        REQUIRE(info);
        CHECK(info->width == w);
        CHECK(info->height == h);
    }
    CHECK_FALSE(inspectJpeg(craftedJpeg(8192, 4883), &why));  // 40,001,536 pixels
    // The limit is a parameter the ingest can set.
    const JpegLimits small{100, 100, 10000};
    CHECK(inspectJpeg(craftedJpeg(100, 100), &why, small));
    CHECK_FALSE(inspectJpeg(craftedJpeg(100, 101), &why, small));
    CHECK_THAT(why, Catch::Contains("100x101 pixels; the limit is 100x100 and 10000 pixels"));
}
