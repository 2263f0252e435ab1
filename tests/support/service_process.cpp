#include "service_process.h"

#include "http_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

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

ServiceProcess::ServiceProcess(const std::map<std::string, std::string>& cameras, std::vector<std::string> extraArgs) {
    TempDir& dir = dir_;
    std::string pipelines = dir.path() + "/pipelines";
    mkdir(pipelines.c_str(), 0755);
    for (const auto& [name, text] : cameras) dir.write("pipelines/" + name, text);
    logPath_ = dir.path() + "/service.log";

    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, logPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::string binary = camrelayBinary();
    std::vector<std::string> args = {binary, "--listen", "127.0.0.1", "--port", "0", "--pipelines", pipelines};
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        throw std::runtime_error("cannot start " + binary);
    }
    // The service prints "listening on http://127.0.0.1:PORT/" once it accepts connections.
    std::string printed;
    pollfd p{out[0], POLLIN, 0};
    static const std::regex listening(R"(listening on http://[^:]+:(\d+)/)");
    std::smatch m;
    while (poll(&p, 1, 15000) > 0) {
        char buffer[512];
        ssize_t n = read(out[0], buffer, sizeof buffer);
        if (n <= 0) break;
        printed.append(buffer, size_t(n));
        if (std::regex_search(printed, m, listening)) {
            port_ = std::stoi(m[1].str());
            break;
        }
    }
    close(out[0]);
    if (!port_) {
        stop();
        throw std::runtime_error("camrelay did not start; stdout: " + printed + "\nlog:\n" + log());
    }
}

ServiceProcess::~ServiceProcess() { stop(); }

std::string ServiceProcess::log() const {
    std::ifstream in(logPath_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

bool ServiceProcess::waitForState(const std::string& id, const std::string& state, int timeoutMs) const {
    const std::string needle = "\"state\":\"" + state + "\"";
    return waitUntil([&] {
        try {
            return httpRequest(port_, "GET", "/api/cameras/" + id).body.find(needle) != std::string::npos;
        } catch (const std::exception&) {
            return false;
        }
    }, timeoutMs);
}

int ServiceProcess::stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
}

}  // namespace camrelay::testing
