#pragma once
// Which address a request really comes from when a reverse proxy (nginx, see
// data/nginx-camrelay.conf) sits in front: the proxy's own address is the
// socket's peer for every viewer, so failed-login limits would lock out
// everyone behind it and logs would name only the proxy. For a peer listed in
// [server] trusted-proxies, the client is the rightmost X-Forwarded-For entry
// that is not itself a trusted proxy (each proxy appends the address it saw,
// so entries left of that may be forged by the client and are ignored).
// Any other peer's X-Forwarded-For is ignored: anyone can send the header.
// Thread affinity: any thread (immutable after construction).
#include "core/gobject_ptr.h"

#include <gio/gio.h>

#include <string>
#include <vector>

namespace camrelay {

class ClientAddress {
public:
    // trustedProxies: addresses or masks ("127.0.0.1", "10.0.0.0/8", "::1"),
    // already checked by the config (service_config); bad ones are skipped.
    explicit ClientAddress(const std::vector<std::string>& trustedProxies);

    // socketPeer: the connection's address as text; forwardedFor: the
    // X-Forwarded-For header (null if absent).
    std::string resolve(const std::string& socketPeer, const char* forwardedFor) const;

private:
    bool trusted(const std::string& address) const;
    std::vector<GRef<GInetAddressMask>> masks_;
};

}  // namespace camrelay
