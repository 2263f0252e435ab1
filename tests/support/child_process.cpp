#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace camrelay::testing {

std::string readTextFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::pair<int, std::string> runCommand(const std::string& command) {
    FILE* out = popen((command + " 2>&1").c_str(), "r");
    if (!out) return {-1, "cannot run " + command};
    std::string text;
    char buffer[4096];
    while (size_t n = fread(buffer, 1, sizeof buffer, out)) text.append(buffer, n);
    const int status = pclose(out);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

ChildProcess::ChildProcess(const std::vector<std::string>& args, const std::string& stdoutPath,
                           const std::string& stderrPath)
    : stdoutPath_(stdoutPath) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, copy[0].c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        pid_ = -1;
        throw std::runtime_error("cannot start " + copy[0]);
    }
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), stdoutPath_(std::move(o.stdoutPath_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
    if (this != &o) {
        stop();
        pid_ = std::exchange(o.pid_, -1);
        stdoutPath_ = std::move(o.stdoutPath_);
    }
    return *this;
}

std::string ChildProcess::output() const { return readTextFile(stdoutPath_); }

std::string ChildProcess::waitForOutput(const std::string& pattern, int timeoutMs) {
    const std::regex re(pattern);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (std::chrono::steady_clock::now() < deadline) {
        std::smatch m;
        const std::string text = output();
        if (std::regex_search(text, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
        int status = 0;
        if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return {};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return {};
}

void ChildProcess::signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
}

int ChildProcess::stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGCONT);  // a paused child cannot handle SIGTERM
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill();
    return -1;
}

void ChildProcess::kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
}

}  // namespace camrelay::testing
