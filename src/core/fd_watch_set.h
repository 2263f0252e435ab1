#pragma once
// Many file descriptors watched by ONE GSource on the loop's context.
// A fan-out with a thousand sockets then costs one source, and switching a
// socket's interest in "writable" on and off is a flag change, not a new source.
// Thread affinity: loop thread only.
#include <glib.h>

#include <functional>
#include <string>

namespace camrelay {

// The owner's callback should catch what one client's input throws and close
// that client (it knows which one); dispatch() still catches whatever escapes
// so no exception unwinds through GLib, and logs it: nothing is swallowed.
class FdWatchSet {
public:
    using Tag = gpointer;
    // Called once per dispatch; the owner asks each tag for its events with ready().
    // name: who owns the set, for the log line when onDispatch throws.
    explicit FdWatchSet(std::function<void()> onDispatch, std::string name = "fd watch set");
    ~FdWatchSet();
    FdWatchSet(const FdWatchSet&) = delete;
    FdWatchSet& operator=(const FdWatchSet&) = delete;

    Tag add(int fd, GIOCondition events);
    void modify(Tag tag, GIOCondition events);
    void remove(Tag tag);
    GIOCondition ready(Tag tag) const;
    // While set, the owner is dispatched again at once even if no descriptor
    // is ready (input buffered above a socket, as TLS does); ready() then
    // reports only what the descriptors say.
    void setPending(bool pending) { pending_ = pending; }

private:
    struct Source;
    static gboolean prepare(GSource* source, gint* timeout) noexcept;
    static gboolean check(GSource* source) noexcept;
    static gboolean dispatch(GSource* source, GSourceFunc, gpointer) noexcept;
    GSource* source_;
    std::function<void()> onDispatch_;
    std::string name_;
    bool pending_ = false;
};

}  // namespace camrelay
