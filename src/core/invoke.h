#pragma once
// Runs fn on the thread that owns context (at once when that is the caller),
// for callbacks that libraries may emit from their own threads.
// Thread affinity: any thread.
#include "core/log.h"

#include <glib.h>

#include <functional>

namespace camrelay {

inline void invokeOn(GMainContext* context, std::function<void()> fn) {
    g_main_context_invoke_full(
        context, G_PRIORITY_DEFAULT,
        [](gpointer p) noexcept -> gboolean {
            try {
                (*static_cast<std::function<void()>*>(p))();
            } catch (...) {
                logError("", "a loop callback failed: " + currentExceptionText());
            }
            return G_SOURCE_REMOVE;
        },
        new std::function<void()>(std::move(fn)),
        [](gpointer p) noexcept { delete static_cast<std::function<void()>*>(p); });
}

}  // namespace camrelay
