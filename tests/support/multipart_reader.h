#pragma once
// Incremental reader of an HTTP multipart/x-mixed-replace response, as a
// browser or ffmpeg would read it: response head, then parts delimited by
// the boundary, each with Content-Length. Used by the tests and by bench/.
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace camrelay::testing {

struct Part {
    std::map<std::string, std::string> headers;  // lower-case names
    size_t contentLength = 0;
    int64_t timestampUs = 0;      // from X-Timestamp
    uint64_t frameNumber = 0;     // from X-Frame-Number
    std::string body;             // only when bodies are kept
};

// What a load viewer reads: a stream of frames over one connection.
class StreamReader {
public:
    virtual ~StreamReader() = default;
    // Feeds received bytes; false once the stream is malformed (see error()).
    virtual bool feed(const char* data, size_t size) = 0;
    virtual const std::string& error() const = 0;
};

class MultipartReader : public StreamReader {
public:
    // keepBodies=false only counts body bytes (the load tool needs no copies).
    explicit MultipartReader(std::function<void(const Part&)> onPart, bool keepBodies = true);

    bool feed(const char* data, size_t size) override;

    int status() const { return status_; }
    const std::string& contentType() const { return contentType_; }
    const std::string& error() const override { return error_; }
    bool headDone() const { return state_ != State::Head; }

private:
    enum class State { Head, Boundary, PartHeaders, Body, AfterBody, Failed };
    bool fail(std::string why);
    bool step();

    std::function<void(const Part&)> onPart_;
    bool keepBodies_;
    State state_ = State::Head;
    std::string buffer_;       // bytes not consumed yet (never body bytes when not kept)
    std::string boundary_;
    int status_ = 0;
    std::string contentType_;
    Part part_;
    size_t bodyRemaining_ = 0;
    std::string error_;
};

// "Name: value\r\n..." into lower-case names.
std::map<std::string, std::string> parseHeaderLines(const std::string& block);

}  // namespace camrelay::testing
