// Recording names and ids (recording_paths.h), the Range header parser
// (file_response.h) and retention planning (retention.h): pure functions.
#include "recording/file_response.h"
#include "recording/recording_paths.h"
#include "recording/retention.h"

#include <catch2/catch.hpp>

#include <string>

using namespace camrelay;

namespace {
constexpr int64_t kStart = 1795386900;  // 2026-11-22T22:35:00Z
}

TEST_CASE("segment and capture names round-trip through the strict id parsers", "[recording-paths]") {
    const std::string segment = segmentRelativePath("demo", kStart, "mp4");
    CHECK(segment == "demo/2026-11-22/demo-20261122T223500Z.mp4");
    auto parsed = parseRecordingId(segment);
    REQUIRE(parsed);
    CHECK(parsed->camera == "demo");
    CHECK(parsed->day == "2026-11-22");
    CHECK(parsed->startUnix == kStart);
    CHECK(parsed->ext == "mp4");
    CHECK(parsed->sequence == 0);
    CHECK(parsed->id() == segment);

    const std::string second = segmentRelativePath("cam_2-b", kStart, "mkv", 3);
    CHECK(second == "cam_2-b/2026-11-22/cam_2-b-20261122T223500Z-3.mkv");
    auto p2 = parseRecordingId(second);
    REQUIRE(p2);
    CHECK(p2->sequence == 3);
    CHECK(p2->ext == "mkv");

    const std::string capture = captureRelativePath("demo", kStart);
    CHECK(capture == "demo/captures/demo-20261122T223500Z.jpg");
    auto c = parseCaptureId(capture);
    REQUIRE(c);
    CHECK(c->day == "captures");
    CHECK(c->startUnix == kStart);
    // Each parser takes only its own kind.
    CHECK_FALSE(parseRecordingId(capture));
    CHECK_FALSE(parseCaptureId(segment));
    CHECK(partialMarkerPath("/x/" + segment) == "/x/" + segment + ".partial");
    CHECK(std::string(contentTypeForExtension("mp4")) == "video/mp4");
    CHECK(std::string(contentTypeForExtension("mkv")) == "video/x-matroska");
    CHECK(std::string(contentTypeForExtension("jpg")) == "image/jpeg");
}

TEST_CASE("every path trick is refused by the id parsers", "[recording-paths]") {
    const std::string good = "demo/2026-11-22/demo-20261122T223500Z.mp4";
    const char* tricks[] = {
        "", "/", "//", "..", "../../etc/passwd", "demo/../../etc/passwd",
        "demo/2026-11-22/../demo-20261122T223500Z.mp4", "../2026-11-22/demo-20261122T223500Z.mp4",
        "demo/2026-11-22/..", "demo/./demo-20261122T223500Z.mp4",
        "/demo/2026-11-22/demo-20261122T223500Z.mp4", "demo/2026-11-22/demo-20261122T223500Z.mp4/",
        "demo//2026-11-22/demo-20261122T223500Z.mp4", "demo/2026-11-22//demo-20261122T223500Z.mp4",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "demo/2026-11-22/%2e%2e", "%252e%252e/x/y",
        "demo%2f2026-11-22%2fdemo-20261122T223500Z.mp4", "demo/2026-11-22/demo-20261122T223500Z%2emp4",
        "demo\\2026-11-22\\demo-20261122T223500Z.mp4", "demo/2026-11-22/demo-20261122T223500Z.mp4\\",
        "demo/2026-11-22/demo-20261122T223500Z.txt", "demo/2026-11-22/demo-20261122T223500Z.mp4.partial",
        "demo/2026-11-22/demo-20261122T223500Z.jpg", "demo/2026-11-22/demo-20261122T223500Z",
        "demo/2026-11-22/other-20261122T223500Z.mp4",   // another camera's file in demo's folder
        "other/2026-11-22/demo-20261122T223500Z.mp4",   // demo's file under another camera
        "demo/2026-11-21/demo-20261122T223500Z.mp4",    // the wrong day folder
        "demo/2026-11-22/demo-20261122T253500Z.mp4",    // hour 25
        "demo/2026-02-31/demo-20260231T223500Z.mp4",    // 31 February
        "demo/2026-11-22/demo-20261122T223500Z-0.mp4", "demo/2026-11-22/demo-20261122T223500Z-01.mp4",
        "demo/2026-11-22/demo-20261122T223500Z-1234.mp4", "demo/2026-11-22/demo-20261122T223500Z--1.mp4",
        "demo/2026-11-22/demo-2026112T223500Z.mp4", "demo/2026-11-22/demo-20261122t223500z.mp4",
        "demo/captures/demo-20261122T223500Z.mp4", "de mo/2026-11-22/de mo-20261122T223500Z.mp4",
        "demo/2026-11-22/demo-20261122T223500Z.mp4/extra",
    };
    for (const char* trick : tricks) {
        INFO(trick);
        CHECK_FALSE(parseRecordingId(trick));
        CHECK_FALSE(parseCaptureId(trick));
    }
    // NUL inside the id (a "%00" decoded by someone): the string_view keeps it.
    std::string nul = good;
    nul.insert(5, 1, '\0');
    CHECK_FALSE(parseRecordingId(nul));
    std::string nulEnd = good + std::string(1, '\0');
    CHECK_FALSE(parseRecordingId(nulEnd));
    std::string nulExt = good;
    nulExt[nulExt.size() - 4] = '\0';
    CHECK_FALSE(parseRecordingId(nulExt));
    // Overlong: a 65-character camera id, and ids past 256 bytes.
    const std::string longCamera(65, 'a');
    CHECK_FALSE(parseRecordingId(segmentRelativePath(longCamera, kStart, "mp4")));
    CHECK_FALSE(parseRecordingId(std::string(100000, 'a')));
    CHECK(parseRecordingId(segmentRelativePath(std::string(64, 'a'), kStart, "mp4")));
    // Capture-side tricks.
    CHECK_FALSE(parseCaptureId("demo/captures/../demo-20261122T223500Z.jpg"));
    CHECK_FALSE(parseCaptureId("demo/captures/demo-20261122T223500Z-1.jpg"));
    CHECK_FALSE(parseCaptureId("demo/Captures/demo-20261122T223500Z.jpg"));
    CHECK_FALSE(parseCaptureId("demo/captures/other-20261122T223500Z.jpg"));
    CHECK(parseRecordingId(good));
}

TEST_CASE("Range headers: one byte range is served, anything else is whole or 416", "[recording-paths][range]") {
    const uint64_t size = 1000;
    auto single = [&](const char* h, uint64_t first, uint64_t last) {
        INFO(h);
        const RangeRequest r = parseByteRange(h, size);
        REQUIRE(r.kind == RangeKind::Single);
        CHECK(r.first == first);
        CHECK(r.last == last);
        CHECK(r.length() == last - first + 1);
    };
    single("bytes=0-0", 0, 0);
    single("bytes=0-499", 0, 499);
    single("bytes=500-999", 500, 999);
    single("bytes=500-5000", 500, 999);  // past the end: clipped
    single("bytes=500-", 500, 999);
    single("bytes=999-", 999, 999);
    single("bytes=-1", 999, 999);
    single("bytes=-100", 900, 999);
    single("bytes=-5000", 0, 999);        // more than the file: all of it
    single("BYTES= 10 - 20 ", 10, 20);    // unit is case-insensitive, whitespace allowed
    single("bytes=0-99999999999999999999999999", 0, 999);  // saturates, still valid
    CHECK(parseByteRange(nullptr, size).kind == RangeKind::None);
    for (const char* h : {"bytes=1000-", "bytes=1000-2000", "bytes=-0", "bytes=99999999999999999999999-"}) {
        INFO(h);
        CHECK(parseByteRange(h, size).kind == RangeKind::Unsatisfiable);
    }
    CHECK(parseByteRange("bytes=0-", 0).kind == RangeKind::Unsatisfiable);
    CHECK(parseByteRange("bytes=-5", 0).kind == RangeKind::Unsatisfiable);
    for (const char* h : {"", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-3", "bytes=1-2-3", "items=0-1",
                          "bytes=0-1,5-6", "bytes=0-0,-1", "bytes=+1-2", "bytes=0x10-20", "bytes=-1-", " bytes=1 2-3"}) {
        INFO(h);
        CHECK(parseByteRange(h, size).kind == RangeKind::Ignored);
    }
    CHECK(parseByteRange(std::string(300, '1').insert(0, "bytes=").c_str(), size).kind == RangeKind::Ignored);
}

namespace {
StoredFile stored(const std::string& camera, int64_t start, int64_t size, bool capture = false) {
    StoredFile f;
    f.name = *(capture ? parseCaptureId(captureRelativePath(camera, start))
                       : parseRecordingId(segmentRelativePath(camera, start, "mp4")));
    f.capture = capture;
    f.size = size;
    f.mtimeUnix = start + 10;
    return f;
}
}  // namespace

TEST_CASE("retention plans deletions oldest first and never the file being written", "[recording-paths][retention]") {
    const int64_t now = kStart + 100000;
    ScanResult scan;
    scan.files.push_back(stored("a", kStart + 300, 100));
    scan.files.push_back(stored("a", kStart, 100));             // oldest of a
    scan.files.push_back(stored("a", kStart + 100, 100, true)); // a capture, second oldest
    scan.files.push_back(stored("b", kStart + 50, 100));
    StoredFile writing = stored("a", kStart - 500, 100);        // oldest of all, but being written
    writing.hasMarker = true;
    writing.markerMtimeUnix = now - 5;
    scan.files.push_back(writing);

    RetentionPolicy policy;
    policy.cameras["a"] = RetentionLimits{0, 250};  // a has 400 bytes (100 of them being written)
    auto plan = planRetention(scan, policy, now);
    REQUIRE(plan.size() == 2);
    CHECK(plan[0].name.startUnix == kStart);
    CHECK(plan[1].name.startUnix == kStart + 100);
    CHECK(plan[1].capture);

    RetentionPolicy global;
    global.global = RetentionLimits{0, 300};  // 500 bytes in all: the two oldest deletable go
    plan = planRetention(scan, global, now);
    REQUIRE(plan.size() == 2);
    CHECK(plan[0].name.camera == "a");
    CHECK(plan[0].name.startUnix == kStart);
    CHECK(plan[1].name.camera == "b");

    RetentionPolicy age;
    age.global = RetentionLimits{now - kStart - 60, 0};  // older than kStart + 60
    plan = planRetention(scan, age, now);
    REQUIRE(plan.size() == 2);
    CHECK(plan[0].name.startUnix == kStart);
    CHECK(plan[1].name.camera == "b");
    // A stale marker no longer protects its file.
    scan.files.back().markerMtimeUnix = now - 3600;
    scan.files.back().mtimeUnix = now - 3600;
    plan = planRetention(scan, age, now);
    CHECK(plan.size() == 3);
    // A leftover marker goes once it is stale.
    OrphanMarker orphan;
    orphan.name = *parseRecordingId(segmentRelativePath("a", kStart + 7, "mp4"));
    orphan.mtimeUnix = now - 61;
    scan.orphanMarkers.push_back(orphan);
    plan = planRetention(scan, RetentionPolicy{}, now);
    REQUIRE(plan.size() == 1);
    CHECK(plan[0].markerOnly);
}
