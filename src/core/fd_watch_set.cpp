#include "fd_watch_set.h"

namespace camrelay {

struct FdWatchSet::Source {
    GSource base;
    FdWatchSet* owner;
};

gboolean FdWatchSet::dispatch(GSource* source, GSourceFunc, gpointer) noexcept {
    try {
        reinterpret_cast<Source*>(source)->owner->onDispatch_();
    } catch (...) {
    }
    return G_SOURCE_CONTINUE;
}

FdWatchSet::FdWatchSet(std::function<void()> onDispatch) : onDispatch_(std::move(onDispatch)) {
    static GSourceFuncs funcs = {nullptr, nullptr, &FdWatchSet::dispatch, nullptr, nullptr, nullptr};
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
