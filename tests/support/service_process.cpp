#include "service_process.h"

#include <sys/resource.h>

#include <dirent.h>
#include <iterator>
#include <unistd.h>

#include "http_client.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace camrelay::testing {

TempDir::TempDir() {
    char pattern[] = "/tmp/camrelay-test-XXXXXX";
    if (!mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::string command = "rm -rf '" + path_ + "'";
    if (std::system(command.c_str()) != 0) {
    }
}

std::string TempDir::write(const std::string& name, const std::string& contents) const {
    std::string path = path_ + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
}

std::string camrelayBinary() {
    const char* path = std::getenv("CAMRELAY_BINARY");
    if (!path) throw std::runtime_error("CAMRELAY_BINARY is not set (run the tests with meson test)");
    return path;
}

std::string demoCamera(int width, int height, int fps) {
    return "[camera]\nname=Test pattern\nsource=videotestsrc is-live=true pattern=ball\n"
           "width=" + std::to_string(width) + "\nheight=" + std::to_string(height) +
           "\nframerate=" + std::to_string(fps) + "\nquality=70\n";
}

bool waitUntil(const std::function<bool()>& pred, int timeoutMs) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
}

ServiceProcess::ServiceProcess(const std::map<std::string, std::string>& cameras, std::vector<std::string> extraArgs,
                               bool withPipelinesDir) {
    const std::string pipelines = dir_.path() + "/pipelines";
    mkdir(pipelines.c_str(), 0755);
    for (const auto& [name, text] : cameras) dir_.write("pipelines/" + name, text);
    logPath_ = dir_.path() + "/service.log";
    std::vector<std::string> args = {camrelayBinary(), "--listen", "127.0.0.1", "--port", "0"};
    if (withPipelinesDir) args.insert(args.end(), {"--pipelines", pipelines});
    if (std::find(extraArgs.begin(), extraArgs.end(), "--rtsp-port") == extraArgs.end())
        args.insert(args.end(), {"--rtsp-port", "0"});
    // Recordings and captures go to the fixture's own dir, unless a config or the test says where.
    if (std::find(extraArgs.begin(), extraArgs.end(), "--config") == extraArgs.end() &&
        std::find(extraArgs.begin(), extraArgs.end(), "--data") == extraArgs.end())
        args.insert(args.end(), {"--data", dataDir()});
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());
    process_ = ChildProcess(args, dir_.path() + "/service.out", logPath_);
    // The service prints "listening on http[s]://127.0.0.1:PORT/" once it accepts connections.
    // (or http://[::1]:PORT/ when a test listens on IPv6 only).
    const std::string port = process_.waitForOutput(R"(listening on https?://(?:\[[^\]]+\]|[^:/]+):(\d+)/)", 15000);
    if (port.empty()) {
        const std::string printed = process_.output();
        process_.stop();
        throw std::runtime_error("camrelay did not start; stdout: " + printed + "\nlog:\n" + log());
    }
    port_ = std::stoi(port);
    std::smatch m;
    const std::string printed = process_.output();
    if (std::regex_search(printed, m, std::regex(R"(RTSP re-streaming on rtsps?://(?:\[[^\]]+\]|[^:/]+):(\d+)/)")))
        rtspPort_ = std::stoi(m[1].str());
}

ServiceProcess::~ServiceProcess() { stop(); }

std::string ServiceProcess::log() const { return readTextFile(logPath_); }

std::string ServiceProcess::cameraJson(const std::string& id) const {
    return httpRequest(port_, "GET", "/api/cameras/" + id, {}, requestHeaders_).body;
}

bool ServiceProcess::waitForState(const std::string& id, const std::string& state, int timeoutMs) const {
    const std::string needle = "\"state\":\"" + state + "\"";
    return waitUntil([&] {
        try {
            return cameraJson(id).find(needle) != std::string::npos;
        } catch (const std::exception&) {
            return false;
        }
    }, timeoutMs);
}

int ServiceProcess::stop() { return process_.stop(); }

int64_t serviceRssKiB(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
    return -1;
}

std::string hashWithBinary(const std::string& password) {
    auto [code, out] = runCommand("printf '%s\\n' '" + password + "' | '" + camrelayBinary() + "' --hash-password");
    if (code != 0 || out.rfind("pbkdf2-sha256$", 0) != 0) throw std::runtime_error("camrelay --hash-password failed: " + out);
    return out.substr(0, out.find('\n'));
}

std::string viewerAuthConfig(const TempDir& dir) {
    return dir.write("c.ini", "[paths]\ndata=" + dir.path() + "/data\n[auth]\nenabled=true\nlogin-failures-per-minute=10000\n"
                              "password-checks-per-second=1000\n[user:vic]\nrole=viewer\npassword=" +
                                  hashWithBinary("viewer-pw") + "\n");
}

void raiseOpenFilesLimit() {
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) != 0) return;
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
}

double processCpuSeconds(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos) return 0;
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
        if (i == 14) utime = std::stoull(f);
        if (i == 15) stime = std::stoull(f);
    }
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

int openFdCount(int pid) {
    int n = 0;
    if (DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
        while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
        closedir(d);
    }
    return n;
}

std::string restreamUrl(const ServiceProcess& service, const std::string& id) {
    return "rtsp://127.0.0.1:" + std::to_string(service.rtspPort()) + "/" + id;
}

std::string h264Player(const std::string& url) {
    return "rtspsrc location=\"" + url + "\" protocols=tcp latency=0 ! rtph264depay ! h264parse ! avdec_h264";
}

}  // namespace camrelay::testing
