#include "encoded_tap.h"

#include <algorithm>

namespace camrelay {

int EncodedTap::add(Listener listener) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.push_back({nextId_, std::move(listener), false});
    return nextId_++;
}

void EncodedTap::remove(int id) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [id](const Entry& e) { return e.id == id; }),
                   entries_.end());
}

size_t EncodedTap::listeners() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

void EncodedTap::push(GstBuffer* accessUnit) {
    const bool keyFrame = !GST_BUFFER_FLAG_IS_SET(accessUnit, GST_BUFFER_FLAG_DELTA_UNIT);
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& e : entries_) {
        e.started = e.started || keyFrame;
        if (e.started) e.listener(accessUnit);
    }
}

}  // namespace camrelay
