#pragma once
// Runs work on GIO's worker threads and hands its result back to the thread
// that called offLoop (its thread-default main context: the loop thread), for
// filesystem walks that must not hold the loop (listing, retention).
// work must not touch loop-thread state; done runs on the calling thread.
// An exception from work is logged and done is not called.
// Thread affinity: call on the loop thread.
#include "core/log.h"

#include <gio/gio.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace camrelay {

template <typename R> void offLoop(std::function<R()> work, std::function<void(R&)> done) {
    struct Job {
        std::function<R()> work;
        std::function<void(R&)> done;
        std::optional<R> result;
        std::string error;
    };
    GTask* task = g_task_new(nullptr, nullptr, [](GObject*, GAsyncResult* res, gpointer) noexcept {
        auto* job = static_cast<Job*>(g_task_get_task_data(G_TASK(res)));
        try {
            if (job->result) job->done(*job->result);
            else logError("", "background work failed: " + job->error);
        } catch (...) {
            logError("", "background work's answer failed: " + currentExceptionText());
        }
    }, nullptr);
    g_task_set_task_data(task, new Job{std::move(work), std::move(done), std::nullopt, {}},
                         [](gpointer p) { delete static_cast<Job*>(p); });
    g_task_run_in_thread(task, [](GTask* t, gpointer, gpointer data, GCancellable*) noexcept {
        auto* job = static_cast<Job*>(data);
        try {
            job->result = job->work();
        } catch (...) {
            job->error = currentExceptionText();
        }
        g_task_return_boolean(t, TRUE);
    });
    g_object_unref(task);
}

}  // namespace camrelay
