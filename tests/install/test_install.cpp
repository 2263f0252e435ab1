// `meson install` of this build dir into a temporary DESTDIR, and the
// installed tree: the binary runs with the installed config and cameras, the
// systemd unit passes systemd-analyze and carries its hardening, the sysusers.d
// and tmpfiles.d files do what they say, and a second install keeps what the
// admin edited. (No systemd as PID 1 on the test machine: the unit is checked
// offline; the service's W^X memory rule is reproduced with PR_SET_MDWE.)
#include "http_client.h"
#include "service_process.h"

#include <catch2/catch.hpp>
#include <glib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

// Linux 6.3's prctl, newer than Debian 12's kernel headers.
#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

namespace fs = std::filesystem;
using namespace camrelay::testing;

namespace {

std::string env(const char* name) {
    const char* value = g_getenv(name);
    return value ? value : "";
}

// The directories data/meson.build configured (tests/meson.build passes them).
struct Layout {
    std::string bindir = env("CAMRELAY_INSTALL_BINDIR");
    std::string confdir = env("CAMRELAY_INSTALL_CONFDIR");
    std::string pkgdatadir = env("CAMRELAY_INSTALL_PKGDATADIR");
    std::string unitdir = env("CAMRELAY_INSTALL_UNITDIR");  // empty: -Dsystemd=false
    std::string sysusers = env("CAMRELAY_INSTALL_SYSUSERS");
    std::string tmpfiles = env("CAMRELAY_INSTALL_TMPFILES");
};

std::pair<int, std::string> mesonInstall(const std::string& destdir) {
    const std::string build = env("CAMRELAY_BUILD_ROOT");
    REQUIRE(!build.empty());
    // --no-rebuild: meson test has built everything, and a nested ninja would race it.
    return runCommand("meson install --no-rebuild -C '" + build + "' --destdir '" + destdir + "'");
}

// One installed tree for the whole run (installing takes seconds).
const TempDir& installed() {
    static const TempDir dest;
    static bool done = false;
    if (!done) {
        auto [code, out] = mesonInstall(dest.path());
        INFO(out);
        REQUIRE(code == 0);
        done = true;
    }
    return dest;
}

std::string at(const std::string& path) { return installed().path() + path; }

void writeFile(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    REQUIRE(out.good());
}

// A copy of the installed config with its paths moved into the destdir, so the
// installed binary can run with it without touching /etc or /var.
std::string configInDestdir(const Layout& layout) {
    std::string text = readTextFile(at(layout.confdir + "/camrelay.ini"));
    text = std::regex_replace(text, std::regex("\npipelines=/"), "\npipelines=" + installed().path() + "/");
    text = std::regex_replace(text, std::regex("\ndata=/"), "\ndata=" + installed().path() + "/");
    fs::create_directories(at("/var/lib/camrelay"));
    const std::string path = installed().path() + "/camrelay-test.ini";
    writeFile(path, text);
    return path;
}

// The [Service] directives of a unit file: name -> every value, in order.
std::map<std::string, std::vector<std::string>> serviceDirectives(const std::string& unitText) {
    std::map<std::string, std::vector<std::string>> directives;
    std::istringstream lines(unitText);
    std::string section;
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line[0] == '#') continue;
        if (line[0] == '[') section = line;
        const auto equals = line.find('=');
        if (section == "[Service]" && equals != std::string::npos)
            directives[line.substr(0, equals)].push_back(line.substr(equals + 1));
    }
    return directives;
}

// A configure_file @name@ left unfilled.
bool hasPlaceholder(const std::string& text) { return std::regex_search(text, std::regex("@[a-z_]+@")); }

std::string keyValue(const std::string& text, const std::string& key) {
    std::smatch m;
    return std::regex_search(text, m, std::regex("\n" + key + "=([^\n]*)")) ? m[1].str() : "";
}

}  // namespace

TEST_CASE("meson install puts the binary, the default config, the cameras and the systemd files in place", "[install]") {
    const Layout layout;
    const fs::path binary = at(layout.bindir + "/camrelay");
    REQUIRE(fs::exists(binary));
    CHECK((fs::status(binary).permissions() & fs::perms::others_exec) != fs::perms::none);

    for (const auto& config : {at(layout.confdir + "/camrelay.ini"), at(layout.pkgdatadir + "/camrelay.ini")}) {
        INFO(config);
        REQUIRE(fs::exists(config));
        const std::string text = readTextFile(config);
        CHECK(keyValue(text, "pipelines") == layout.confdir + "/pipelines");
        CHECK(keyValue(text, "data") == "/var/lib/camrelay");
        CHECK_FALSE(hasPlaceholder(text));
    }
    CHECK(fs::exists(at(layout.confdir + "/pipelines/demo.conf")));
    CHECK(fs::exists(at(layout.pkgdatadir + "/pipelines/demo.conf")));
    CHECK(fs::exists(at(layout.pkgdatadir + "/nginx-camrelay.conf")));  // docs/scaling.md
    // Every example in the source tree, none forgotten.
    int examples = 0;
    for (const auto& example : fs::directory_iterator(env("CAMRELAY_SOURCE_ROOT") + "/pipelines/examples")) {
        INFO(example.path());
        CHECK(readTextFile(at(layout.pkgdatadir + "/pipelines/examples/" + example.path().filename().string())) ==
              readTextFile(example.path().string()));
        ++examples;
    }
    CHECK(examples >= 5);

    if (layout.unitdir.empty()) {
        WARN("built with -Dsystemd=false: no systemd files to check");
        return;
    }
    for (const auto& file : {layout.unitdir + "/camrelay.service", layout.sysusers, layout.tmpfiles}) {
        INFO(file);
        REQUIRE(fs::exists(at(file)));
        CHECK_FALSE(hasPlaceholder(readTextFile(at(file))));
    }
    // systemd reads units from the directory they went to.
    auto [code, paths] = runCommand("systemd-analyze unit-paths");
    REQUIRE(code == 0);
    CHECK_THAT(paths + "\n", Catch::Contains(layout.unitdir + "\n"));
}

TEST_CASE("the installed binary accepts the installed config, the demo camera and every example camera", "[install]") {
    const Layout layout;
    const std::string binary = at(layout.bindir + "/camrelay");
    const std::string config = configInDestdir(layout);
    {
        auto [code, out] = runCommand("'" + binary + "' --check --config '" + config + "'");
        INFO(out);
        CHECK(code == 0);
        CHECK_THAT(out, Catch::Contains(at(layout.confdir + "/pipelines/demo.conf") + ": ok"));
    }
    const std::string examples = at(layout.pkgdatadir + "/pipelines/examples");
    auto [code, out] = runCommand("'" + binary + "' --check --config '" + config + "' --pipelines '" + examples + "'");
    INFO(out);
    CHECK(code == 0);
    for (const auto& example : fs::directory_iterator(examples))
        CHECK_THAT(out, Catch::Contains(example.path().string() + ": ok"));
}

TEST_CASE("the installed binary streams the demo camera with the installed config under W^X memory, as MemoryDenyWriteExecute=yes sets it", "[install]") {
    const Layout layout;
    // What MemoryDenyWriteExecute=yes forbids, no mapping both writable and
    // executable; inherited by the service. GStreamer's ORC must cope with it.
    if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0L, 0L, 0L) == 0) {
        // The rule is on: this process (and every child) gets no writable+executable memory.
        void* both = mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(both == MAP_FAILED);
        if (both != MAP_FAILED) munmap(both, 4096);
    } else {
        WARN("PR_SET_MDWE not supported by this kernel (Linux >= 6.3): running without the W^X rule");
    }
    g_setenv("CAMRELAY_BINARY", at(layout.bindir + "/camrelay").c_str(), TRUE);
    // The installed demo camera scaled by the pipeline: videoconvert/videoscale run ORC code.
    std::string demo = readTextFile(at(layout.confdir + "/pipelines/demo.conf"));
    demo = std::regex_replace(demo, std::regex("\nwidth=[0-9]+"), "\nwidth=320");
    demo = std::regex_replace(demo, std::regex("\nheight=[0-9]+"), "\nheight=240");
    ServiceProcess service({{"demo.conf", demo}}, {"--config", configInDestdir(layout)});
    REQUIRE(service.waitForState("demo", "live", 20000));
    const HttpResponse snapshot = httpRequest(service.port(), "GET", "/api/cameras/demo/snapshot");
    INFO(service.log());
    CHECK(snapshot.status == 200);
    CHECK(snapshot.headers.at("content-type") == "image/jpeg");
    CHECK(snapshot.body.size() > 1000);
    CHECK(service.stop() == 0);
}

TEST_CASE("the installed systemd unit passes systemd-analyze verify and carries the hardening", "[install]") {
    const Layout layout;
    if (layout.unitdir.empty()) {
        WARN("built with -Dsystemd=false: no unit installed");
        return;
    }
    const std::string unit = readTextFile(at(layout.unitdir + "/camrelay.service"));
    auto directives = serviceDirectives(unit);
    const std::string execStart = layout.bindir + "/camrelay --config " + layout.confdir + "/camrelay.ini";
    REQUIRE(directives["ExecStart"] == std::vector<std::string>{execStart});

    // verify checks that ExecStart's program exists: a copy that starts the installed one.
    const std::string copy = installed().path() + "/camrelay.service";
    writeFile(copy, std::regex_replace(unit, std::regex("\nExecStart=/"), "\nExecStart=" + installed().path() + "/"));
    {
        auto [code, out] = runCommand("systemd-analyze verify '" + copy + "'");
        INFO(out);
        CHECK(code == 0);
        CHECK(out.empty());  // a directive it does not understand is only a warning
    }

    const std::map<std::string, std::string> expected = {
        {"Type", "notify"}, {"NotifyAccess", "main"}, {"Restart", "on-failure"},
        {"User", "camrelay"}, {"Group", "camrelay"}, {"SupplementaryGroups", "video"},
        {"StateDirectory", "camrelay"}, {"ReadWritePaths", "/var/lib/camrelay"},
        {"ProtectSystem", "strict"}, {"ProtectHome", "yes"}, {"PrivateTmp", "yes"}, {"NoNewPrivileges", "yes"},
        {"RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6 AF_NETLINK"}, {"DevicePolicy", "closed"},
        {"CapabilityBoundingSet", ""}, {"ProtectKernelTunables", "yes"}, {"ProtectKernelModules", "yes"},
        {"ProtectControlGroups", "yes"}, {"LockPersonality", "yes"}, {"MemoryDenyWriteExecute", "yes"},
        {"RestrictNamespaces", "yes"}, {"RestrictSUIDSGID", "yes"}, {"SystemCallArchitectures", "native"},
    };
    for (const auto& [name, value] : expected) {
        INFO(name);
        CHECK(directives[name] == std::vector<std::string>{value});
    }
    CHECK(std::stoi(directives["WatchdogSec"].at(0)) > 0);
    CHECK(directives["DeviceAllow"] ==
          std::vector<std::string>{"char-video4linux rw", "char-media rw", "char-dma_heap rw"});
    CHECK(directives["SystemCallFilter"].at(0) == "@system-service");
    // The data dir the service may write is the one the installed config names.
    CHECK(keyValue(readTextFile(at(layout.confdir + "/camrelay.ini")), "data") == directives["ReadWritePaths"].at(0));

    // systemd's own exposure score (0 = locked down, 10 = unprotected); 1.6 when written.
    auto [code, out] = runCommand("systemd-analyze security --offline=true --no-pager '" + copy + "'");
    INFO(out);
    CHECK(code == 0);
    std::smatch m;
    REQUIRE(std::regex_search(out, m, std::regex(R"(Overall exposure level for camrelay\.service: ([0-9.]+))")));
    CHECK(std::stod(m[1]) <= 2.0);
}

TEST_CASE("the sysusers.d file makes the camrelay user in the video group; tmpfiles.d locks the config to it", "[install]") {
    const Layout layout;
    if (layout.unitdir.empty()) {
        WARN("built with -Dsystemd=false: no sysusers.d or tmpfiles.d file");
        return;
    }
    // A scratch root with Debian's video group, the installed files found by
    // name as systemd would (so they went to a directory it searches).
    TempDir root;
    const fs::path sysusers = root.path() + layout.sysusers, tmpfiles = root.path() + layout.tmpfiles;
    fs::create_directories(root.path() + "/etc");
    writeFile(root.path() + "/etc/group", "video:x:44:\n");
    fs::create_directories(sysusers.parent_path());
    fs::copy_file(at(layout.sysusers), sysusers);
    fs::create_directories(tmpfiles.parent_path());
    fs::copy_file(at(layout.tmpfiles), tmpfiles);
    fs::create_directories(root.path() + layout.confdir);
    fs::copy_file(at(layout.confdir + "/camrelay.ini"), root.path() + layout.confdir + "/camrelay.ini");
    {
        auto [code, out] = runCommand("systemd-sysusers --root='" + root.path() + "' camrelay.conf");
        INFO(out);
        REQUIRE(code == 0);
    }
    const std::string passwd = readTextFile(root.path() + "/etc/passwd");
    CHECK(std::regex_search(passwd, std::regex(R"((^|\n)camrelay:x:[0-9]+:[0-9]+:[^:]*:/var/lib/camrelay:/usr/sbin/nologin\n)")));
    const std::string group = readTextFile(root.path() + "/etc/group");
    CHECK_THAT(group, Catch::Contains("video:x:44:camrelay\n"));
    std::smatch gid;
    REQUIRE(std::regex_search(group, gid, std::regex(R"((^|\n)camrelay:x:([0-9]+):)")));

    auto [code, out] = runCommand("systemd-tmpfiles --root='" + root.path() + "' --create camrelay.conf");
    INFO(out);
    REQUIRE(code == 0);
    struct stat config {};
    REQUIRE(stat((root.path() + layout.confdir + "/camrelay.ini").c_str(), &config) == 0);
    CHECK((config.st_mode & 07777) == 0640);
    CHECK(config.st_uid == 0);
    CHECK(config.st_gid == gid_t(std::stoul(gid[2])));
    CHECK(fs::is_directory(root.path() + layout.confdir + "/pipelines"));
}

TEST_CASE("a second meson install keeps the edited config and does not bring back a deleted demo camera", "[install]") {
    const Layout layout;
    TempDir dest;
    REQUIRE(mesonInstall(dest.path()).first == 0);
    const std::string config = dest.path() + layout.confdir + "/camrelay.ini";
    const std::string pristine = dest.path() + layout.pkgdatadir + "/camrelay.ini";
    const std::string edited = readTextFile(config) + "\n[user:admin]\nrole=admin\npassword=pbkdf2-sha256$1$x$y\n";
    writeFile(config, edited);
    writeFile(pristine, "stale\n");
    fs::remove(dest.path() + layout.confdir + "/pipelines/demo.conf");

    auto [code, out] = mesonInstall(dest.path());
    INFO(out);
    REQUIRE(code == 0);
    CHECK(readTextFile(config) == edited);
    CHECK(readTextFile(pristine) == readTextFile(installed().path() + layout.pkgdatadir + "/camrelay.ini"));
    CHECK_FALSE(fs::exists(dest.path() + layout.confdir + "/pipelines/demo.conf"));
}
