#include "systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace camrelay {

SystemdNotifier::SystemdNotifier() {
    const char* usec = std::getenv("WATCHDOG_USEC");
    if (!usec || !std::getenv("NOTIFY_SOCKET")) return;
    const guint64 interval = g_ascii_strtoull(usec, nullptr, 10);
    if (interval == 0) return;
    // Ping at half the deadline. The ping runs on the loop thread, so a stuck loop stops it.
    watchdog_ = SourceHandle(g_timeout_add(guint(interval / 2000), [](gpointer self) noexcept -> gboolean {
        static_cast<SystemdNotifier*>(self)->send("WATCHDOG=1");
        return G_SOURCE_CONTINUE;
    }, this));
}

void SystemdNotifier::ready(const std::string& status) { send("READY=1\nSTATUS=" + status); }
void SystemdNotifier::stopping() { send("STOPPING=1"); }

bool SystemdNotifier::send(const std::string& text) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return false;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const size_t length = std::strlen(path);
    if (length >= sizeof address.sun_path) return false;
    std::memcpy(address.sun_path, path, length);
    if (address.sun_path[0] == '@') address.sun_path[0] = '\0';  // abstract socket
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const bool ok = sendto(fd, text.data(), text.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&address),
                           socklen_t(offsetof(sockaddr_un, sun_path) + length)) >= 0;
    close(fd);
    return ok;
}

}  // namespace camrelay
