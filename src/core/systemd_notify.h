#pragma once
// sd_notify without libsystemd: READY=1, STOPPING=1 and watchdog pings to
// $NOTIFY_SOCKET, for a unit with Type=notify and WatchdogSec=.
// Thread affinity: loop thread only.
#include "core/gobject_ptr.h"

#include <string>

namespace camrelay {

class SystemdNotifier {
public:
    SystemdNotifier();
    void ready(const std::string& status);
    void stopping();

private:
    bool send(const std::string& text);
    SourceHandle watchdog_;
};

}  // namespace camrelay
