// config/camera_file: editing a camera file's text with its comments kept,
// credentials put back behind the redaction marker, ETags, and the atomic
// writer looked at while it writes (a crash between write and rename must
// never leave a half file).
#include "config/camera_file.h"
#include "core/files.h"
#include "core/gobject_ptr.h"
#include "core/redact.h"
#include "service_process.h"

#include <catch2/catch.hpp>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

using namespace camrelay;
using camrelay::testing::TempDir;

namespace {

const std::string kCommented =
    "# The porch camera.\n"
    "[camera]\n"
    "# shown on the page\n"
    "name=Porch\n"
    "# the test pattern stands in for the real one\n"
    "source=videotestsrc is-live=true\n"
    "# small, to save CPU\n"
    "quality=70\n"
    "\n"
    "[record]\n"
    "# keep a week\n"
    "max-age=7d\n";

// Regular files in dir (no directories), by name.
std::set<std::string> filesIn(const std::string& dir) {
    std::set<std::string> out;
    GDir* raw = g_dir_open(dir.c_str(), 0, nullptr);
    REQUIRE(raw);
    while (const char* name = g_dir_read_name(raw)) {
        const std::string path = dir + "/" + name;
        if (g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR)) out.insert(name);
    }
    g_dir_close(raw);
    return out;
}

std::string readAll(const std::string& path) {
    std::string error;
    auto text = readFile(path, &error);
    INFO(error);
    REQUIRE(text);
    return *text;
}

}  // namespace

TEST_CASE("an edited file keeps its comments where keys are unchanged; values cannot add lines", "[camera-file]") {
    std::string error;
    auto text = editCameraFileText(kCommented, {{"camera", "quality", "85"}, {"camera", "name", "Porch"}},
                                   CameraEditMode::Merge, &error);
    REQUIRE(text);
    // GLib separates groups by a blank line (once; a second edit adds none).
    CHECK_THAT(*text, Catch::StartsWith("# The porch camera.\n\n[camera]\n# shown on the page\nname=Porch\n"));
    auto again = editCameraFileText(*text, {{"camera", "quality", "86"}}, CameraEditMode::Merge, &error);
    REQUIRE(again);
    CHECK(*again == std::string(*text).replace(text->find("quality=85"), 10, "quality=86"));
    CHECK_THAT(*text, Catch::Contains("# the test pattern stands in for the real one\nsource=videotestsrc is-live=true\n"));
    CHECK_THAT(*text, Catch::Contains("quality=85"));
    CHECK_THAT(*text, Catch::Contains("# keep a week\nmax-age=7d"));

    // Replace: keys not given go, with the comment above them; an emptied [record] goes.
    text = editCameraFileText(kCommented, {{"camera", "name", "Porch"}, {"camera", "source", "videotestsrc"}},
                              CameraEditMode::Replace, &error);
    REQUIRE(text);
    CHECK_THAT(*text, Catch::Contains("# shown on the page\nname=Porch"));
    CHECK_THAT(*text, !Catch::Contains("quality") && !Catch::Contains("small, to save CPU") && !Catch::Contains("[record]") &&
                          !Catch::Contains("keep a week"));

    // PATCH null removes a key.
    text = editCameraFileText(kCommented, {{"record", "max-age", std::nullopt}}, CameraEditMode::Merge, &error);
    REQUIRE(text);
    CHECK_THAT(*text, !Catch::Contains("max-age") && !Catch::Contains("[record]"));

    // A newline (or a "]\n[x") in a value is escaped by GKeyFile: one key, no new group.
    text = editCameraFileText(kCommented, {{"camera", "name", "a\nsource=evil\n[record]\nmode=always"}},
                              CameraEditMode::Merge, &error);
    REQUIRE(text);
    auto load = parseCameraConfig("porch", "porch.conf", *text);
    CHECK(load.problems.empty());
    CHECK(load.config.source == "videotestsrc is-live=true");
    CHECK(load.config.record.mode == RecordMode::Manual);
    CHECK(load.config.name == "a\nsource=evil\n[record]\nmode=always");

    // Names GKeyFile cannot hold are refused, not written.
    CHECK_FALSE(editCameraFileText(kCommented, {{"camera", "a=b", "1"}}, CameraEditMode::Merge, &error));
    CHECK_FALSE(editCameraFileText(kCommented, {{"camera", "x\n[y]", "1"}}, CameraEditMode::Merge, &error));
    CHECK_FALSE(editCameraFileText(kCommented, {{"other", "name", "1"}}, CameraEditMode::Merge, &error));
    // A new file starts with [camera].
    text = editCameraFileText("", {{"camera", "source", "videotestsrc"}, {"record", "mode", "off"}}, CameraEditMode::Replace, &error);
    REQUIRE(text);
    CHECK(text->rfind("[camera]\nsource=videotestsrc\n", 0) == 0);
}

TEST_CASE("ETags are strong, from the bytes; If-Match lists and * are understood", "[camera-file]") {
    const std::string a = cameraFileEtag("[camera]\nsource=a\n");
    CHECK(a.size() == 18);
    CHECK(a.front() == '"');
    CHECK(a != cameraFileEtag("[camera]\nsource=b\n"));
    CHECK(a == cameraFileEtag("[camera]\nsource=a\n"));
    CHECK(ifMatchAccepts(a, a));
    CHECK(ifMatchAccepts("*", a));
    CHECK(ifMatchAccepts("\"0000000000000000\", " + a, a));
    CHECK_FALSE(ifMatchAccepts("W/" + a, a));
    CHECK_FALSE(ifMatchAccepts("\"0000000000000000\"", a));
    CHECK_FALSE(ifMatchAccepts("", a));
}

TEST_CASE("presets expand to explicit sizes", "[camera-file]") {
    REQUIRE(findCameraPreset("low"));
    CHECK(findCameraPreset("low")->width == 640);
    CHECK(findCameraPreset("medium")->framerate == 15);
    CHECK(findCameraPreset("high")->quality == 85);
    CHECK_FALSE(findCameraPreset("ultra"));
    CHECK_FALSE(findCameraPreset(""));
}

TEST_CASE("the redaction marker gets the stored credentials back, and only where they were", "[camera-file][redact]") {
    const std::string stored = "rtspsrc location=rtsp://user:secret@127.0.0.1:1/x latency=0 user-pw=\"p w\"";
    std::string why;
    // Sent back as shown.
    auto same = restoreCredentials(stored, redactCredentials(stored), &why);
    REQUIRE(same);
    CHECK(*same == stored);
    // Edited around the marker: the path and latency changed, the credentials stay.
    auto edited = restoreCredentials(stored, "rtspsrc location=rtsp://***@127.0.0.1:1/other latency=200 user-pw=***", &why);
    REQUIRE(edited);
    CHECK(*edited == "rtspsrc location=rtsp://user:secret@127.0.0.1:1/other latency=200 user-pw=\"p w\"");
    // A password with '@' and '/'.
    const std::string tricky = "rtspsrc location=rtsp://admin:p@ss/w0rd@cam:554/x";
    auto t = restoreCredentials(tricky, "rtspsrc location=rtsp://***@cam:554/y", &why);
    REQUIRE(t);
    CHECK(*t == "rtspsrc location=rtsp://admin:p@ss/w0rd@cam:554/y");
    // Another host: the stored password must not go to it.
    CHECK_FALSE(restoreCredentials(stored, "rtspsrc location=rtsp://***@evil.example/x", &why));
    CHECK_THAT(why, Catch::Contains("evil.example"));
    // Nothing stored, or a marker where no credential stands.
    CHECK_FALSE(restoreCredentials("", "rtspsrc location=rtsp://***@127.0.0.1:1/x", &why));
    CHECK_FALSE(restoreCredentials(stored, "videotestsrc pattern=*** ", &why));
    CHECK_THAT(why, Catch::Contains("***"));
    // More markers than stored credentials of that name.
    CHECK_FALSE(restoreCredentials(stored, redactCredentials(stored) + " proxy-pw=*** user-pw=***", &why));
    // No marker: unchanged.
    CHECK(*restoreCredentials(stored, "videotestsrc", &why) == "videotestsrc");
}

TEST_CASE("the writer: only the old complete file and the temporary exist during the write", "[camera-file][atomic]") {
    TempDir dir;
    const std::string old = "[camera]\nsource=videotestsrc\n";
    dir.write("porch.conf", old);
    CameraFileStore store(dir.path());
    const std::string next = "[camera]\nsource=videotestsrc pattern=ball\n" + std::string(100000, '#') + "\n";
    bool hookRan = false;
    store.setBeforeRenameHook([&](const std::string& temp) {
        hookRan = true;
        GUniquePtr<gchar> base(g_path_get_basename(temp.c_str()));
        const std::string tempName = base.get();
        CHECK(tempName.rfind(".porch.conf.tmp-", 0) == 0);
        CHECK_FALSE(g_str_has_suffix(tempName.c_str(), ".conf"));  // the loader never picks it up
        CHECK(filesIn(dir.path()) == std::set<std::string>{"porch.conf", tempName});
        CHECK(readAll(dir.path() + "/porch.conf") == old);  // the old file, whole
        CHECK(readAll(temp) == next);                       // the new one, whole, before it takes the name
        return true;
    });
    std::string error;
    REQUIRE(store.write("porch", next, &error));
    CHECK(hookRan);
    CHECK(filesIn(dir.path()) == std::set<std::string>{"porch.conf"});
    CHECK(readAll(dir.path() + "/porch.conf") == next);
    // The previous version is in the backup directory, private to the service.
    const auto backups = store.backups("porch");
    REQUIRE(backups.size() == 1);
    CHECK(readAll(backups[0]) == old);
    CHECK_THAT(backups[0], Catch::Matches(".*/\\.backup/porch\\.conf\\.[0-9]{8}T[0-9]{6}Z"));
    GStatBuf st{};
    REQUIRE(g_stat(store.backupDir().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("the writer: a failure before the rename leaves the old file byte-identical and no temporary", "[camera-file][atomic]") {
    TempDir dir;
    const std::string old = "# hand-written\n[camera]\nsource=videotestsrc\n";
    dir.write("porch.conf", old);
    CameraFileStore store(dir.path());
    store.setBeforeRenameHook([](const std::string&) { return false; });  // "the power went" here
    std::string error;
    CHECK_FALSE(store.write("porch", "[camera]\nsource=other\n", &error));
    CHECK_FALSE(error.empty());
    CHECK(readAll(dir.path() + "/porch.conf") == old);
    CHECK(filesIn(dir.path()) == std::set<std::string>{"porch.conf"});

    // A temporary left by a real crash (the process died before rename) is
    // never taken for a camera, and the next write clears it.
    dir.write(".porch.conf.tmp-AbC123", "[camera]\nsource=half");
    store.setBeforeRenameHook({});
    REQUIRE(store.write("porch", old, &error));
    CHECK(filesIn(dir.path()) == std::set<std::string>{"porch.conf"});

    // A directory that cannot be written: the same, with the system's reason.
    if (geteuid() != 0) {
        store.setBeforeRenameHook({});
        REQUIRE(g_chmod(dir.path().c_str(), 0500) == 0);
        CHECK_FALSE(writeFileAtomically(dir.path() + "/porch.conf", "x", &error));
        CHECK_THAT(error, Catch::Contains("Permission denied"));
        REQUIRE(g_chmod(dir.path().c_str(), 0700) == 0);
        CHECK(readAll(dir.path() + "/porch.conf") == old);
        CHECK(filesIn(dir.path()) == std::set<std::string>{"porch.conf"});
    }
}

TEST_CASE("backups: the newest ten per camera; delete moves the file there", "[camera-file]") {
    TempDir dir;
    dir.write("porch.conf", "[camera]\nsource=v0\n");
    dir.write("yard.conf", "[camera]\nsource=y\n");
    CameraFileStore store(dir.path());
    std::string error;
    for (int i = 1; i <= 13; ++i) REQUIRE(store.write("porch", "[camera]\nsource=v" + std::to_string(i) + "\n", &error));
    auto backups = store.backups("porch");
    REQUIRE(backups.size() == CameraFileStore::kMaxBackupsPerCamera);
    CHECK(readAll(backups.front()) == "[camera]\nsource=v3\n");  // v0..v2 pruned
    CHECK(readAll(backups.back()) == "[camera]\nsource=v12\n");
    CHECK(store.backups("yard").empty());
    REQUIRE(store.remove("porch", &error));
    CHECK_FALSE(g_file_test((dir.path() + "/porch.conf").c_str(), G_FILE_TEST_EXISTS));
    backups = store.backups("porch");
    REQUIRE(backups.size() == CameraFileStore::kMaxBackupsPerCamera);
    CHECK(readAll(backups.back()) == "[camera]\nsource=v13\n");
    CHECK(filesIn(dir.path()) == std::set<std::string>{"yard.conf"});
    CHECK_FALSE(store.remove("porch", &error));  // gone already
}
