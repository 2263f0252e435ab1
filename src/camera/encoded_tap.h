#pragma once
// The source's own H.264 access units, for outputs that pass them through
// untouched (RTSP re-streaming) instead of re-encoding the JPEG frames.
// Unlike JPEG frames, access units cannot be skipped (each depends on the
// ones before), so they are handed over on the streaming thread, in order,
// to every listener; a listener must only queue them (appsrc does).
// A new listener starts at the next key frame, so it is decodable at once.
// Thread affinity: any thread (a mutex guards the listeners).
#include "core/gobject_ptr.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace camrelay {

class EncodedTap {
public:
    using Listener = std::function<void(GstBuffer*)>;  // borrowed buffer: ref it to keep it

    int add(Listener listener);
    void remove(int id);
    size_t listeners() const;
    // Streaming thread: one access unit of the running source.
    void push(GstBuffer* accessUnit);

private:
    struct Entry {
        int id;
        Listener listener;
        bool started;  // has seen a key frame
    };
    mutable std::mutex mutex_;
    std::vector<Entry> entries_;
    int nextId_ = 1;
};

// Feeds `tap` from an appsink's samples, on its streaming thread, while the
// returned flag is true. The owner clears it before handing the pipeline to
// the reaper: an old pipeline still draining never interleaves its access
// units with a new one's. onUnit (may be empty) sees each access unit first
// (liveness meters, key-frame clocks). Null when appsink is null.
std::shared_ptr<std::atomic<bool>> feedTapFromAppSink(GstElement* appsink, std::shared_ptr<EncodedTap> tap,
                                                      std::function<void(GstBuffer*)> onUnit);

}  // namespace camrelay
