#include "multipart_reader.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

namespace camrelay::testing {

std::map<std::string, std::string> parseHeaderLines(const std::string& block) {
    std::map<std::string, std::string> headers;
    std::istringstream in(block);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        headers[name] = value;
    }
    return headers;
}

MultipartReader::MultipartReader(std::function<void(const Part&)> onPart, bool keepBodies)
    : onPart_(std::move(onPart)), keepBodies_(keepBodies) {}

bool MultipartReader::fail(std::string why) {
    state_ = State::Failed;
    error_ = std::move(why);
    return false;
}

bool MultipartReader::feed(const char* data, size_t size) {
    if (state_ == State::Failed) return false;
    while (size > 0) {
        if (state_ == State::Body && !keepBodies_) {
            size_t n = std::min(size, bodyRemaining_);
            bodyRemaining_ -= n;
            data += n;
            size -= n;
            if (bodyRemaining_ == 0) {
                onPart_(part_);
                state_ = State::AfterBody;
            }
            continue;
        }
        buffer_.append(data, size);
        size = 0;
    }
    while (step()) {
    }
    return state_ != State::Failed;
}

// Consumes one step from buffer_; false when it needs more bytes (or failed).
bool MultipartReader::step() {
    switch (state_) {
    case State::Head: {
        auto end = buffer_.find("\r\n\r\n");
        if (end == std::string::npos) return buffer_.size() > 16384 ? fail("response head too long") : false;
        std::string head = buffer_.substr(0, end);
        buffer_.erase(0, end + 4);
        if (head.compare(0, 9, "HTTP/1.1 ") != 0 && head.compare(0, 9, "HTTP/1.0 ") != 0) return fail("not HTTP: " + head.substr(0, 40));
        status_ = std::atoi(head.c_str() + 9);
        auto headers = parseHeaderLines(head.substr(head.find("\r\n") + 2));
        contentType_ = headers["content-type"];
        auto b = contentType_.find("boundary=");
        if (status_ != 200 || b == std::string::npos) return fail("status " + std::to_string(status_) + ", content type " + contentType_);
        boundary_ = "--" + contentType_.substr(b + 9);
        state_ = State::Boundary;
        return true;
    }
    case State::Boundary: {
        auto end = buffer_.find("\r\n");
        if (end == std::string::npos) return buffer_.size() > 256 ? fail("boundary line too long") : false;
        if (buffer_.compare(0, end, boundary_) != 0) return fail("expected boundary, got: " + buffer_.substr(0, std::min<size_t>(end, 60)));
        buffer_.erase(0, end + 2);
        state_ = State::PartHeaders;
        return true;
    }
    case State::PartHeaders: {
        auto end = buffer_.find("\r\n\r\n");
        if (end == std::string::npos) return buffer_.size() > 4096 ? fail("part headers too long") : false;
        part_ = Part{};
        part_.headers = parseHeaderLines(buffer_.substr(0, end + 2));
        buffer_.erase(0, end + 4);
        auto length = part_.headers.find("content-length");
        if (length == part_.headers.end()) return fail("part without Content-Length");
        part_.contentLength = std::strtoull(length->second.c_str(), nullptr, 10);
        if (auto ts = part_.headers.find("x-timestamp"); ts != part_.headers.end())
            part_.timestampUs = int64_t(std::strtod(ts->second.c_str(), nullptr) * 1e6 + 0.5);
        if (auto n = part_.headers.find("x-frame-number"); n != part_.headers.end())
            part_.frameNumber = std::strtoull(n->second.c_str(), nullptr, 10);
        bodyRemaining_ = part_.contentLength;
        state_ = State::Body;
        if (!keepBodies_) {
            // Count what is already buffered, hand the rest to feed().
            size_t n = std::min(buffer_.size(), bodyRemaining_);
            bodyRemaining_ -= n;
            buffer_.erase(0, n);
            if (bodyRemaining_ == 0) {
                onPart_(part_);
                state_ = State::AfterBody;
                return true;
            }
            return false;
        }
        return true;
    }
    case State::Body: {
        if (!keepBodies_) return false;
        if (buffer_.size() < bodyRemaining_) return false;
        part_.body = buffer_.substr(0, bodyRemaining_);
        buffer_.erase(0, bodyRemaining_);
        bodyRemaining_ = 0;
        onPart_(part_);
        state_ = State::AfterBody;
        return true;
    }
    case State::AfterBody: {
        if (buffer_.size() < 2) return false;
        if (buffer_.compare(0, 2, "\r\n") != 0) return fail("part body longer than its Content-Length");
        buffer_.erase(0, 2);
        state_ = State::Boundary;
        return true;
    }
    case State::Failed: return false;
    }
    return false;
}

}  // namespace camrelay::testing
