#pragma once
// A timer that fires once, after a number of seconds, on the loop thread.
// start() lets GLib coalesce wake-ups to whole seconds (it may fire up to a
// second late: fine for backoffs and lingering); startMs() is on time, for
// what a user measures (a 10 s recording lasts 10 s).
// Starting it again replaces the pending run; destroying it cancels it. The
// callback may start the timer again (it is no longer pending by then).
// Thread affinity: loop thread only.
#include "core/log.h"

#include <glib.h>

#include <functional>

namespace camrelay {

class OneShotTimer {
public:
    OneShotTimer() = default;
    ~OneShotTimer() { cancel(); }
    OneShotTimer(const OneShotTimer&) = delete;
    OneShotTimer& operator=(const OneShotTimer&) = delete;

    void start(guint seconds, std::function<void()> fn) {
        cancel();
        fn_ = std::move(fn);
        id_ = g_timeout_add_seconds(seconds, &OneShotTimer::fire, this);
    }
    void startMs(guint milliseconds, std::function<void()> fn) {
        cancel();
        fn_ = std::move(fn);
        id_ = g_timeout_add(milliseconds, &OneShotTimer::fire, this);
    }
    void cancel() {
        if (id_) g_source_remove(id_);
        id_ = 0;
        fn_ = nullptr;
    }
    bool pending() const { return id_ != 0; }

private:
    static gboolean fire(gpointer data) noexcept {
        auto* self = static_cast<OneShotTimer*>(data);
        self->id_ = 0;
        auto fn = std::move(self->fn_);
        self->fn_ = nullptr;
        try {
            if (fn) fn();
        } catch (...) {
            logError("", "a timer callback failed: " + currentExceptionText());
        }
        return G_SOURCE_REMOVE;
    }

    guint id_ = 0;
    std::function<void()> fn_;
};

}  // namespace camrelay
