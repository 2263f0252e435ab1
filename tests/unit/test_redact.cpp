// redactCredentials: every form a camera source can carry a credential in,
// what must stay as it is, invalid UTF-8, and megabyte hostile inputs.
#include "config/camera_config.h"
#include "core/redact.h"

#include <catch2/catch.hpp>
#include <glib.h>

#include <string>

using camrelay::redactCredentials;

namespace {

bool validUtf8(const std::string& s) { return g_utf8_validate(s.data(), gssize(s.size()), nullptr); }

struct Case {
    const char* form;
    std::string input;
    std::string expected;
};

}  // namespace

TEST_CASE("every form of credential is redacted, and only that", "[redact]") {
    const Case cases[] = {
        // URL userinfo
        {"user and password", "rtspsrc location=rtsp://admin:s3cret@10.0.0.5:554/live latency=0",
         "rtspsrc location=rtsp://***@10.0.0.5:554/live latency=0"},
        {"user only", "souphttpsrc location=\"http://user@cam.local/video.mjpg\"",
         "souphttpsrc location=\"http://***@cam.local/video.mjpg\""},
        {"password with @ and /", "rtspsrc location=rtsp://admin:p@ss/w0rd@127.0.0.1:1/x ! tee name=camrelay_fanout",
         "rtspsrc location=rtsp://***@127.0.0.1:1/x ! tee name=camrelay_fanout"},
        {"password with @ only", "rtsp://admin:a@b@cam/x", "rtsp://***@cam/x"},
        {"password with / only", "rtsp://admin:a/b@cam/x", "rtsp://***@cam/x"},
        {"double-quoted URL with a space", "rtspsrc location=\"rtsp://a:b c@host/x\" latency=0",
         "rtspsrc location=\"rtsp://***@host/x\" latency=0"},
        {"single-quoted URL with a space", "rtspsrc location='rtsp://a:b c@d@host/x' latency=0",
         "rtspsrc location='rtsp://***@host/x' latency=0"},
        {"escaped quote inside a quoted URL", "location=\"rtsp://a:b\\\"c d@h/x\" ! x",
         "location=\"rtsp://***@h/x\" ! x"},
        {"two URLs", "a rtsp://u:p@h/1 b http://v:q@h2/2", "a rtsp://***@h/1 b http://***@h2/2"},
        {"URL in GLib's curly quotes", "value \xE2\x80\x9Crtsp://admin:pw@h/x\xE2\x80\x9D which",
         "value \xE2\x80\x9Crtsp://***@h/x\xE2\x80\x9D which"},
        {"URL cut by clipText", "(pipeline: rtspsrc location=rtsp://admin:passw\xE2\x80\xA6",
         "(pipeline: rtspsrc location=rtsp://***\xE2\x80\xA6"},
        {"other schemes", "srtsrc uri=srt://u:p@h:9000 rtmp2src location=rtmp://u:p@h/app",
         "srtsrc uri=srt://***@h:9000 rtmp2src location=rtmp://***@h/app"},
        // credential properties
        {"user-id, user-pw quoted", "rtspsrc location=rtsp://cam/x user-id=admin user-pw=\"p w\" ! rtph264depay",
         "rtspsrc location=rtsp://cam/x user-id=*** user-pw=*** ! rtph264depay"},
        {"proxy-id, proxy-pw single-quoted", "souphttpsrc proxy-id=bob proxy-pw='x y'", "souphttpsrc proxy-id=*** proxy-pw=***"},
        {"spaces around =", "rtspsrc user-pw = hunter2 latency=0", "rtspsrc user-pw = *** latency=0"},
        {"unquoted value with ! and backslash-space", "rtspsrc user-pw=a!b\\ c latency=0", "rtspsrc user-pw=*** latency=0"},
        {"password, passwd, pw", "x password=a passwd=\"b c\" pw=d", "x password=*** passwd=*** pw=***"},
        {"token, key, secret", "x token=a key='b' secret=c", "x token=*** key=*** secret=***"},
        {"passphrase (srt)", "srtsrc uri=srt://h:9000 passphrase=0123456789ab", "srtsrc uri=srt://h:9000 passphrase=***"},
        {"curl user and passwd", "curlhttpsrc user=bob passwd=x", "curlhttpsrc user=*** passwd=***"},
        {"names ending in -token, -key, password", "x api-key=a stream-key=b auth-token=c adminpassword=d",
         "x api-key=*** stream-key=*** auth-token=*** adminpassword=***"},
        {"upper case and underscores", "x User_PW=a ACCESS_TOKEN=b", "x User_PW=*** ACCESS_TOKEN=***"},
        // HTTP headers
        {"extra-headers with Authorization:", "souphttpsrc extra-headers=\"Authorization: Basic YWRtaW46cHc=;\" is-live=true",
         "souphttpsrc extra-headers=\"Authorization: ***\" is-live=true"},
        {"extra-headers as a GstStructure",
         "souphttpsrc extra-headers=\"h, Authorization=(string)\\\"Basic YWRtaW46cHc=\\\", Accept=(string)image/jpeg\"",
         "souphttpsrc extra-headers=\"h, Authorization=(string)***, Accept=(string)image/jpeg\""},
        {"Proxy-Authorization in a log line", "sending Proxy-Authorization: Bearer abc.def\nnext line",
         "sending Proxy-Authorization: ***\nnext line"},
        {"Cookie with several values", "extra-headers='Cookie: a=1; session=xyz'", "extra-headers='Cookie: ***'"},
        {"header unquoted with =", "h, cookie=session=xyz, accept=1", "h, cookie=***, accept=1"},
        // query strings
        {"query token and password",
         "souphttpsrc location=http://cam/snap.jpg?user=admin&password=x%40y&size=1 is-live=true",
         "souphttpsrc location=http://cam/snap.jpg?user=***&password=***&size=1 is-live=true"},
        {"query pass, key, auth, access_token",
         "location=\"http://cam/s?pass=a&key=b&auth=c&access_token=d#top\"",
         "location=\"http://cam/s?pass=***&key=***&auth=***&access_token=***#top\""},
        {"query sig", "rtmp://h/app?sig=abcd", "rtmp://h/app?sig=***"},
        // invalid UTF-8
        {"invalid UTF-8 inside the password", "rtsp://admin:pa\xff\xfess@host/x", "rtsp://***@host/x"},
        {"invalid UTF-8 inside a property", "user-pw=se\xffret x", "user-pw=*** x"},
        {"invalid UTF-8 elsewhere", "cam\xc3 rtsp://a:b@h", "cam\xEF\xBF\xBD rtsp://***@h"},
        {"NUL byte", std::string("a\0b", 3), "a\xEF\xBF\xBD" "b"},
        // left as they are
        {"no credentials", "rtspsrc location=rtsp://10.0.0.5:554/live latency=0 ! tee name=camrelay_fanout",
         "rtspsrc location=rtsp://10.0.0.5:554/live latency=0 ! tee name=camrelay_fanout"},
        {"ordinary properties", "videotestsrc is-live=true ! x264enc key-int-max=30 pass=qual tune=zerolatency ! "
                                "appsink name=camrelay_frames max-buffers=2 drop=true",
         "videotestsrc is-live=true ! x264enc key-int-max=30 pass=qual tune=zerolatency ! "
         "appsink name=camrelay_frames max-buffers=2 drop=true"},
        {"query without secrets", "souphttpsrc location=http://cam/snap.jpg?size=1&quality=80 user-agent=camrelay",
         "souphttpsrc location=http://cam/snap.jpg?size=1&quality=80 user-agent=camrelay"},
        {"GStreamer's words", "rtspsrc0: Could not open resource for reading and writing.",
         "rtspsrc0: Could not open resource for reading and writing."},
        {"device path and caps", "v4l2src device=/dev/video0 ! image/jpeg,width=1280", "v4l2src device=/dev/video0 ! image/jpeg,width=1280"},
        {"an e-mail address", "mail admin@example.com", "mail admin@example.com"},
        {"valid UTF-8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb7", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb7"},
        {"empty", "", ""},
    };
    for (const auto& c : cases) {
        INFO(c.form << ": " << c.input);
        const std::string once = redactCredentials(c.input);
        CHECK(once == c.expected);
        CHECK(validUtf8(once));
        CHECK(redactCredentials(once) == once);  // redacting again changes nothing
    }
}

TEST_CASE("a path with an '@' after the host is masked too (over-redaction, never a leak)", "[redact]") {
    CHECK(redactCredentials("http://h2/p@x") == "http://***@x");
}

TEST_CASE("megabyte hostile inputs are redacted correctly", "[redact][limits]") {
    constexpr size_t kMiB = 1024 * 1024;
    auto repeat = [](const std::string& unit) {
        std::string s;
        while (s.size() < kMiB) s += unit;
        return s;
    };
    auto times = [](const std::string& unit, size_t n) {
        std::string s;
        for (size_t i = 0; i < n; ++i) s += unit;
        return s;
    };
    // Many URLs with credentials: none survives.
    const std::string urls = redactCredentials(repeat("rtsp://admin:SECRET@h/x "));
    CHECK(urls.find("SECRET") == std::string::npos);
    // Schemes with nothing after them, unquoted and unclosed quotes: nothing to redact.
    CHECK(redactCredentials(repeat("a://")) == repeat("a://"));
    CHECK(redactCredentials(repeat("\"a://")) == repeat("\"a://"));
    CHECK(redactCredentials(repeat("'a://b ")) == repeat("'a://b "));
    // One '@' at the very end: it is the userinfo's end for every URL before it.
    CHECK(redactCredentials(repeat("a://") + "@h") == "a://***@h");
    // Quoted: each URL ends at the next quote, so only the last one reaches the '@'.
    CHECK(redactCredentials(repeat("\"a://") + "@h") == repeat("\"a://") + "***@h");
    CHECK(redactCredentials(repeat("'a://x@")) == times("'a://***@", repeat("'a://x@").size() / 7));
    // Unclosed quoted values and header values run to the end.
    CHECK(redactCredentials("password=\"" + repeat("x ")) == "password=***");
    // password="password="password=" ...: each value is the quoted next name.
    const std::string values = redactCredentials(repeat("password=\""));
    CHECK(values == times("password=***", values.size() / 12));
    CHECK(values.size() >= repeat("password=\"").size() / 2);
    CHECK(redactCredentials(repeat("Authorization: ")) == "Authorization: ***");
    CHECK(redactCredentials(repeat("\\")) == repeat("\\"));
    CHECK(redactCredentials(repeat("?token=a&")).find("token=a") == std::string::npos);
    // Invalid UTF-8 everywhere.
    const std::string bad = redactCredentials(repeat("\xff"));
    CHECK(bad.size() == 3 * kMiB);
    CHECK(validUtf8(bad));
    // Random bytes: still valid UTF-8 out.
    std::string noise;
    uint32_t seed = 7;
    while (noise.size() < kMiB) {
        seed = seed * 1103515245 + 12345;
        noise += "@:/'\"\\ =?&abc\xff"[(seed >> 16) % 15];
    }
    CHECK(validUtf8(redactCredentials(noise)));
}

TEST_CASE("config syntax errors name the line by number and never quote it", "[redact][config]") {
    struct Bad { std::string text; std::string expected; };
    const Bad cases[] = {
        {"root:$6$secretline:19000::\n", "syntax error: line 1 is not a [group], a setting (name=value) or a # comment"},
        {"# comment\r\n\r\n[camera]\r\nsecretline\r\n", "syntax error: line 4 is not a [group], a setting (name=value)"},
        {"a=secretline\n[camera]\n", "syntax error: line 1 comes before the first [group]"},
        {"[camera]\n[secret[line]\n", "syntax error: line 2 is not a valid [group] line"},
        {"[camera]\nsource=rtsp://a:secretline\xff@h\n", "syntax error: line 2 is not UTF-8 text"},
        {"[database]\npassword=secretline\n", "has no [camera] group: not a camera file"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        auto load = camrelay::parseCameraConfig("cam", "pipelines/cam.conf", c.text);
        REQUIRE(load.problems.size() == 1);
        CHECK_THAT(load.problems[0].toString(), Catch::Contains(c.expected));
        CHECK(load.problems[0].toString().find("secret") == std::string::npos);
        CHECK(load.problems[0].toString().find("database") == std::string::npos);
    }
    // A comment may hold any bytes; the rest of the file is read.
    CHECK(camrelay::parseCameraConfig("cam", "f", "# caf\xe9\n[camera]\nsource=videotestsrc\n").problems.empty());
}
