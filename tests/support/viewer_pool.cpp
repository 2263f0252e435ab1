#include "viewer_pool.h"

#include "http_client.h"
#include "ws_stream_reader.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <stdexcept>

namespace camrelay::testing {

int64_t monotonicUs() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
int64_t wallUs() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    size_t rank = size_t(std::ceil(p * double(values.size()))) ;
    return values[std::min(values.size() - 1, rank ? rank - 1 : 0)];
}

struct ViewerPool::Viewer {
    int fd = -1;
    bool paused = false;
    ViewerStats stats;
    std::unique_ptr<StreamReader> reader;
};

ViewerPool::ViewerPool(int port, std::string target, bool keepBodies, int receiveBuffer, StreamKind kind)
    : port_(port), target_(std::move(target)), keepBodies_(keepBodies), receiveBuffer_(receiveBuffer), kind_(kind),
      epoll_(epoll_create1(EPOLL_CLOEXEC)) {}

ViewerPool::~ViewerPool() {
    for (size_t i = 0; i < viewers_.size(); ++i) close(i);
    ::close(epoll_);
}

size_t ViewerPool::open(size_t n) {
    const size_t first = viewers_.size();
    const std::string request = kind_ == StreamKind::WebSocket ? webSocketRequest(target_)
                                                               : "GET " + target_ + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    for (size_t i = 0; i < n; ++i) {
        auto v = std::make_unique<Viewer>();
        const size_t index = viewers_.size();
        v->stats.startUs = monotonicUs();
        Viewer* raw = v.get();
        auto onFrame = [this, raw, index](const Part& part) {
            const int64_t now = monotonicUs();
            ViewerStats& s = raw->stats;
            if (s.firstFrameUs < 0) s.firstFrameUs = now;
            s.lastFrameUs = now;
            ++s.frames;
            if (part.timestampUs) s.latencyUs.push_back(wallUs() - part.timestampUs);
            if (part.frameNumber && part.frameNumber <= s.lastFrameNumber) s.framesInOrder = false;
            s.lastFrameNumber = part.frameNumber;
            if (onPart) onPart(index, part);
        };
        if (kind_ == StreamKind::WebSocket) v->reader = std::make_unique<WsStreamReader>(onFrame, keepBodies_);
        else v->reader = std::make_unique<MultipartReader>(onFrame, keepBodies_);
        v->fd = connectLoopback(port_, receiveBuffer_);
        if (v->fd < 0 || send(v->fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) {
            v->stats.error = "connect or send failed";
            v->stats.closed = true;
            if (v->fd >= 0) ::close(v->fd);
            v->fd = -1;
        } else {
            fcntl(v->fd, F_SETFL, fcntl(v->fd, F_GETFL) | O_NONBLOCK);
            epoll_event e{};
            e.events = EPOLLIN;
            e.data.u64 = index;
            epoll_ctl(epoll_, EPOLL_CTL_ADD, v->fd, &e);
        }
        viewers_.push_back(std::move(v));
    }
    return first;
}

void ViewerPool::pause(size_t index, bool paused) {
    Viewer& v = *viewers_.at(index);
    if (v.fd < 0 || v.paused == paused) return;
    v.paused = paused;
    epoll_event e{};
    e.events = paused ? 0 : EPOLLIN;
    e.data.u64 = index;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, v.fd, &e);
}

void ViewerPool::close(size_t index) {
    Viewer& v = *viewers_.at(index);
    if (v.fd < 0) return;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, v.fd, nullptr);
    ::close(v.fd);
    v.fd = -1;
}

void ViewerPool::run(int durationMs, const std::function<bool()>& done) {
    const int64_t deadline = monotonicUs() + int64_t(durationMs) * 1000;
    static thread_local std::vector<char> buffer(1 << 18);
    epoll_event events[256];
    while (monotonicUs() < deadline) {
        if (done && done()) return;
        int wait = int(std::max<int64_t>(1, std::min<int64_t>(50, (deadline - monotonicUs()) / 1000)));
        int n = epoll_wait(epoll_, events, 256, wait);
        for (int i = 0; i < n; ++i) {
            Viewer& v = *viewers_[events[i].data.u64];
            if (v.fd < 0 || v.paused) continue;
            for (;;) {
                ssize_t got = recv(v.fd, buffer.data(), buffer.size(), 0);
                if (got > 0) {
                    v.stats.bytes += uint64_t(got);
                    if (!v.reader->feed(buffer.data(), size_t(got))) {
                        v.stats.error = v.reader->error();
                        close(events[i].data.u64);
                        break;
                    }
                    if (size_t(got) < buffer.size()) break;
                    continue;
                }
                if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                    v.stats.closed = true;
                    close(events[i].data.u64);
                }
                break;
            }
        }
    }
}

const ViewerStats& ViewerPool::stats(size_t index) const { return viewers_.at(index)->stats; }

std::vector<ViewerStats> ViewerPool::allStats() const {
    std::vector<ViewerStats> out;
    for (const auto& v : viewers_) out.push_back(v->stats);
    return out;
}

}  // namespace camrelay::testing
