// The Prometheus text writer of GET /metrics (http/metrics.h).
#include "http/metrics.h"

#include <catch2/catch.hpp>

using namespace camrelay;

TEST_CASE("label values escape backslash, quote and newline, and are made valid UTF-8", "[metrics]") {
    CHECK(escapeLabelValue("plain") == "plain");
    CHECK(escapeLabelValue("a\"b") == "a\\\"b");
    CHECK(escapeLabelValue("a\\b") == "a\\\\b");
    CHECK(escapeLabelValue("a\nb") == "a\\nb");
    CHECK(escapeLabelValue("caf\xc3\xa9") == "caf\xc3\xa9");
    CHECK(escapeLabelValue(std::string("bad\xff", 4)) == "bad\xef\xbf\xbd");  // U+FFFD
    CHECK(escapeLabelValue(std::string("nul\0x", 5)).find('\0') == std::string::npos);  // never a NUL in the text
}

TEST_CASE("families get HELP and TYPE once, samples their labels and values", "[metrics]") {
    MetricsText m;
    m.family("x_total", "counter", "Things.");
    m.sample({{"camera", "a\"b"}, {"output", "mjpeg"}}, uint64_t(18446744073709551615ULL));
    m.sample({}, uint64_t(0));
    m.family("y_seconds", "gauge", "Time.");
    m.sample({{"camera", "c"}}, 0.25);
    CHECK(m.text() == "# HELP x_total Things.\n# TYPE x_total counter\n"
                      "x_total{camera=\"a\\\"b\",output=\"mjpeg\"} 18446744073709551615\n"
                      "x_total 0\n"
                      "# HELP y_seconds Time.\n# TYPE y_seconds gauge\n"
                      "y_seconds{camera=\"c\"} 0.25\n");
}
