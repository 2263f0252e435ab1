#pragma once
// A callback every `seconds` on the loop thread until stopped or destroyed.
// An exception from it is logged (naming `what`) and the timer goes on.
// Thread affinity: loop thread only.
#include "core/log.h"

#include <glib.h>

#include <functional>
#include <string>
#include <utility>

namespace camrelay {

class RepeatingTimer {
public:
    RepeatingTimer() = default;
    ~RepeatingTimer() { stop(); }
    RepeatingTimer(const RepeatingTimer&) = delete;
    RepeatingTimer& operator=(const RepeatingTimer&) = delete;

    void start(guint seconds, std::string what, std::function<void()> fn) {
        stop();
        what_ = std::move(what);
        fn_ = std::move(fn);
        id_ = g_timeout_add_seconds(seconds, &RepeatingTimer::fire, this);
    }
    void stop() {
        if (id_) g_source_remove(id_);
        id_ = 0;
    }

private:
    static gboolean fire(gpointer data) noexcept {
        auto* self = static_cast<RepeatingTimer*>(data);
        try {
            self->fn_();
        } catch (...) {
            logError("", self->what_ + " failed: " + currentExceptionText());
        }
        return G_SOURCE_CONTINUE;
    }

    guint id_ = 0;
    std::string what_;
    std::function<void()> fn_;
};

}  // namespace camrelay
