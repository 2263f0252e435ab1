#include "event_log.h"

#include "core/clock.h"

namespace camrelay {

void EventLog::record(CameraEvent event) {
    events_.push_back({nextId_++, unixNowUs(), std::move(event)});
    if (events_.size() > capacity_) events_.pop_front();
    signal_.emit(events_.back());
}

std::vector<LoggedEvent> EventLog::recent(uint64_t afterId, size_t limit) const {
    std::vector<LoggedEvent> out;
    for (const auto& e : events_)
        if (e.id > afterId) out.push_back(e);
    if (out.size() > limit) out.erase(out.begin(), out.end() - limit);
    return out;
}

}  // namespace camrelay
