#pragma once
// A request answered later (paused meanwhile). Holds the message and notices
// when its client goes away meanwhile (libsoup finishes the message then): an
// answer that comes after that is dropped instead of written to a finished
// message.
// Thread affinity: loop thread only.
#include "core/gobject_ptr.h"

#include <libsoup/soup.h>

#include <functional>
#include <memory>

namespace camrelay {

class PendingAnswer {
public:
    explicit PendingAnswer(SoupServerMessage* msg) : msg_(GRef<SoupServerMessage>::ref(msg)), gone_(std::make_shared<bool>(false)) {
        for (const char* signal : {"finished", "disconnected"})
            g_signal_connect_data(msg, signal, G_CALLBACK(+[](SoupServerMessage*, gpointer data) {
                                      **static_cast<std::shared_ptr<bool>*>(data) = true;
                                  }),
                                  new std::shared_ptr<bool>(gone_),
                                  [](gpointer data, GClosure*) { delete static_cast<std::shared_ptr<bool>*>(data); },
                                  GConnectFlags(0));
    }
    // After the work is handed over (its answer cannot come before: it comes through this thread's loop).
    void pause() const { soup_server_message_pause(msg_.get()); }
    // Loop thread. fill writes status, headers and body; then the message goes on.
    void answer(const std::function<void(SoupServerMessage*)>& fill) const {
        if (*gone_) return;
        fill(msg_.get());
        soup_server_message_unpause(msg_.get());
    }
    // The client went away before the answer.
    bool gone() const { return *gone_; }

private:
    GRef<SoupServerMessage> msg_;
    std::shared_ptr<bool> gone_;
};

}  // namespace camrelay
