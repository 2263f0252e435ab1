#pragma once
// A helper program run by a test: stdout and stderr go to files (read at any
// time), SIGTERM then SIGKILL when stopped or destroyed.
#include <string>
#include <utility>
#include <vector>

namespace camrelay::testing {

class ChildProcess {
public:
    ChildProcess() = default;
    // args[0] is the program. Throws when it cannot be started.
    ChildProcess(const std::vector<std::string>& args, const std::string& stdoutPath, const std::string& stderrPath);
    ~ChildProcess() { stop(); }
    ChildProcess(ChildProcess&& o) noexcept;
    ChildProcess& operator=(ChildProcess&& o) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    int pid() const { return pid_; }
    bool running() const { return pid_ > 0; }
    std::string output() const;  // stdout so far
    // Waits until stdout matches the regex; returns the first capture group
    // (or the whole match), empty on timeout or exit.
    std::string waitForOutput(const std::string& pattern, int timeoutMs);
    void signal(int sig) const;
    // SIGTERM, wait up to 5 s, then SIGKILL. Returns the exit code (-1: killed or not running).
    int stop();
    // SIGKILL at once: a camera losing power.
    void kill();

private:
    int pid_ = -1;
    std::string stdoutPath_;
};

std::string readTextFile(const std::string& path);
// Runs a shell command to the end; returns {exit code, stdout and stderr}.
std::pair<int, std::string> runCommand(const std::string& command);

}  // namespace camrelay::testing
