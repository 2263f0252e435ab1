#pragma once
// Many file descriptors watched by ONE GSource on the loop's context.
// A fan-out with a thousand sockets then costs one source, and switching a
// socket's interest in "writable" on and off is a flag change, not a new source.
// Thread affinity: loop thread only.
#include <glib.h>

#include <functional>

namespace camrelay {

class FdWatchSet {
public:
    using Tag = gpointer;
    // Called once per dispatch; the owner asks each tag for its events with ready().
    explicit FdWatchSet(std::function<void()> onDispatch);
    ~FdWatchSet();
    FdWatchSet(const FdWatchSet&) = delete;
    FdWatchSet& operator=(const FdWatchSet&) = delete;

    Tag add(int fd, GIOCondition events);
    void modify(Tag tag, GIOCondition events);
    void remove(Tag tag);
    GIOCondition ready(Tag tag) const;

private:
    struct Source;
    static gboolean dispatch(GSource* source, GSourceFunc, gpointer) noexcept;
    GSource* source_;
    std::function<void()> onDispatch_;
};

}  // namespace camrelay
