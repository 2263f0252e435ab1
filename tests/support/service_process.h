#pragma once
// The real camrelay binary, started on a free loopback port with a temporary
// pipelines directory, stopped with SIGTERM when the fixture goes.
#include "child_process.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace camrelay::testing {

class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::string& path() const { return path_; }
    std::string write(const std::string& name, const std::string& contents) const;

private:
    std::string path_;
};

class ServiceProcess {
public:
    // cameras: file name -> contents, written into a fresh pipelines dir.
    // RTSP re-streaming runs on a free port unless extraArgs say otherwise.
    // withPipelinesDir false: no --pipelines (the service then uses <data>/pipelines).
    explicit ServiceProcess(const std::map<std::string, std::string>& cameras, std::vector<std::string> extraArgs = {},
                            bool withPipelinesDir = true);
    ~ServiceProcess();
    ServiceProcess(const ServiceProcess&) = delete;
    ServiceProcess& operator=(const ServiceProcess&) = delete;

    int port() const { return port_; }
    int rtspPort() const { return rtspPort_; }  // 0: RTSP off
    int pid() const { return process_.pid(); }
    // The service's --pipelines directory (the camera files).
    std::string pipelinesDir() const { return dir_.path() + "/pipelines"; }
    // The service's data dir (--data) when the test gave no --config or --data of its own;
    // recordings are under dataDir() + "/recordings".
    std::string dataDir() const { return dir_.path() + "/data"; }
    // Everything the service printed to stderr so far.
    std::string log() const;
    // What it printed to stdout ("camrelay: listening on ...").
    std::string printed() const { return process_.output(); }
    // GET /api/cameras/{id}: the camera's JSON (throws if the service does not answer).
    std::string cameraJson(const std::string& id) const;
    // Waits until GET /api/cameras/{id} shows the state; false on timeout.
    bool waitForState(const std::string& id, const std::string& state, int timeoutMs = 10000) const;
    // SIGTERM and wait; returns the exit status (-1 if it had to be killed).
    int stop();
    // Extra request header lines ("Authorization: ...\r\n") for the fixture's own
    // requests (cameraJson, waitForState), for services running with auth on.
    void setRequestHeaders(std::string headers) { requestHeaders_ = std::move(headers); }

private:
    TempDir dir_;
    std::string logPath_;
    ChildProcess process_;
    int port_ = 0;
    int rtspPort_ = 0;
    std::string requestHeaders_;
};

// Under AddressSanitizer (tools/sanitize) freed memory stays resident in its
// quarantine (256 MiB): RSS bounds mean nothing there, so tests skip them.
#ifdef __SANITIZE_ADDRESS__
inline constexpr bool kRssBoundsApply = false;
#else
inline constexpr bool kRssBoundsApply = true;
#endif

// The process's resident memory (VmRSS, KiB; -1 if gone) and open descriptors.
int64_t serviceRssKiB(int pid);
int openFdCount(int pid);
// The password= value for a [user:NAME] group, made as an admin makes it:
// `camrelay --hash-password` (throws if that fails).
std::string hashWithBinary(const std::string& password);
// A service config in dir with auth on, one viewer "vic" (password "viewer-pw")
// and the login limits lifted; returns its path (for --config).
std::string viewerAuthConfig(const TempDir& dir);
// Lifts this process's soft limit on open files to the hard one (load tools).
void raiseOpenFilesLimit();
// User + system CPU time the process has used, in seconds.
double processCpuSeconds(int pid);

// rtsp://127.0.0.1:<service's RTSP port>/<id>: the camera re-streamed.
std::string restreamUrl(const ServiceProcess& service, const std::string& id);
// A GStreamer pipeline fragment that plays an RTSP H.264 URL (quoted: it may carry ?token=).
std::string h264Player(const std::string& url);

// Path of the built binary (set by meson in CAMRELAY_BINARY).
std::string camrelayBinary();
// The demo camera's file text, shared by tests.
std::string demoCamera(int width = 320, int height = 240, int fps = 30);
// Runs until pred() or timeout, sleeping briefly between polls.
bool waitUntil(const std::function<bool()>& pred, int timeoutMs);

}  // namespace camrelay::testing
