#include "http/client_address.h"

#include <cstring>

namespace camrelay {

namespace {

// At most this many X-Forwarded-For entries are looked at (from the right):
// a chain of proxies is short; a header of thousands of commas is an attack.
constexpr int kMaxHops = 16;

// The canonical text of an IP literal ("" if it is not one); ::ffff:a.b.c.d
// becomes a.b.c.d, as the front door does for the socket's peer.
std::string canonical(const std::string& text) {
    GRef<GInetAddress> address = GRef<GInetAddress>::adopt(g_inet_address_new_from_string(text.c_str()));
    if (!address) return "";
    if (g_inet_address_get_family(address.get()) == G_SOCKET_FAMILY_IPV6) {
        const guint8* b = g_inet_address_to_bytes(address.get());
        static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(b, mapped, sizeof mapped) == 0) {
            GRef<GInetAddress> v4 = GRef<GInetAddress>::adopt(g_inet_address_new_from_bytes(b + 12, G_SOCKET_FAMILY_IPV4));
            GUniquePtr<char> t(g_inet_address_to_string(v4.get()));
            return t.get();
        }
    }
    GUniquePtr<char> t(g_inet_address_to_string(address.get()));
    return t.get();
}

std::string trim(const std::string& text) {
    const size_t a = text.find_first_not_of(" \t");
    if (a == std::string::npos) return "";
    return text.substr(a, text.find_last_not_of(" \t") - a + 1);
}

}  // namespace

ClientAddress::ClientAddress(const std::vector<std::string>& trustedProxies) {
    for (const std::string& text : trustedProxies) {
        GRef<GInetAddressMask> mask = GRef<GInetAddressMask>::adopt(g_inet_address_mask_new_from_string(text.c_str(), nullptr));
        if (mask) masks_.push_back(std::move(mask));
    }
}

bool ClientAddress::trusted(const std::string& address) const {
    GRef<GInetAddress> a = GRef<GInetAddress>::adopt(g_inet_address_new_from_string(address.c_str()));
    if (!a) return false;
    for (const auto& mask : masks_)
        if (g_inet_address_mask_matches(mask.get(), a.get())) return true;
    return false;
}

std::string ClientAddress::resolve(const std::string& socketPeer, const char* forwardedFor) const {
    if (!forwardedFor || masks_.empty() || !trusted(socketPeer)) return socketPeer;
    // Right to left: each entry was appended by the hop to its right; the first
    // one that is not a trusted proxy is the client. An entry that is not an IP
    // literal ("unknown", garbage) ends the walk: nothing left of it can be trusted.
    const std::string header = forwardedFor;
    std::string client = socketPeer;
    size_t end = header.size();
    for (int hop = 0; hop < kMaxHops; ++hop) {
        const size_t comma = header.rfind(',', end == 0 ? 0 : end - 1);
        const size_t start = comma == std::string::npos || comma >= end ? 0 : comma + 1;
        const std::string entry = canonical(trim(header.substr(start, end - start)));
        if (entry.empty()) return client;
        client = entry;
        if (!trusted(entry) || start == 0) return client;
        end = start - 1;  // the comma
    }
    return client;
}

}  // namespace camrelay
