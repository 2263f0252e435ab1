#include "fd_watch_set.h"

#include "core/log.h"

namespace camrelay {

struct FdWatchSet::Source {
    GSource base;
    FdWatchSet* owner;
};

gboolean FdWatchSet::prepare(GSource* source, gint* timeout) noexcept {
    *timeout = -1;
    return reinterpret_cast<Source*>(source)->owner->pending_;
}

// GLib dispatches a source whose descriptors are ready whatever check says.
gboolean FdWatchSet::check(GSource* source) noexcept { return reinterpret_cast<Source*>(source)->owner->pending_; }

gboolean FdWatchSet::dispatch(GSource* source, GSourceFunc, gpointer) noexcept {
    FdWatchSet* owner = reinterpret_cast<Source*>(source)->owner;
    try {
        owner->onDispatch_();
    } catch (...) {
        // The owner should have caught this per client; reaching here is a bug worth a line.
        try {
            const std::string what = currentExceptionText();
            GST_CAT_ERROR(camrelay_output_debug, "%s: uncaught in socket dispatch: %s", owner->name_.c_str(), what.c_str());
            logError("", owner->name_ + ": uncaught exception in socket dispatch: " + what);
        } catch (...) {
        }
    }
    return G_SOURCE_CONTINUE;
}

FdWatchSet::FdWatchSet(std::function<void()> onDispatch, std::string name)
    : onDispatch_(std::move(onDispatch)), name_(std::move(name)) {
    static GSourceFuncs funcs = {&FdWatchSet::prepare, &FdWatchSet::check, &FdWatchSet::dispatch, nullptr, nullptr, nullptr};
    source_ = g_source_new(&funcs, sizeof(Source));
    reinterpret_cast<Source*>(source_)->owner = this;
    g_source_set_name(source_, "camrelay-fd-watch-set");
    g_source_attach(source_, g_main_context_get_thread_default());
}

FdWatchSet::~FdWatchSet() {
    g_source_destroy(source_);
    g_source_unref(source_);
}

FdWatchSet::Tag FdWatchSet::add(int fd, GIOCondition events) { return g_source_add_unix_fd(source_, fd, events); }
void FdWatchSet::modify(Tag tag, GIOCondition events) { g_source_modify_unix_fd(source_, tag, events); }
void FdWatchSet::remove(Tag tag) { g_source_remove_unix_fd(source_, tag); }
GIOCondition FdWatchSet::ready(Tag tag) const { return g_source_query_unix_fd(source_, tag); }

}  // namespace camrelay
