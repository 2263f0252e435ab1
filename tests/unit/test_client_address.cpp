// Which address a request comes from behind a trusted reverse proxy (src/http/client_address.h).
#include "http/client_address.h"

#include <catch2/catch.hpp>

#include <string>

using namespace camrelay;

TEST_CASE("X-Forwarded-For is believed only from a trusted proxy, right to left", "[client-address]") {
    const ClientAddress none({});
    CHECK(none.resolve("127.0.0.1", "192.0.2.7") == "127.0.0.1");  // no trusted proxies: the header means nothing

    const ClientAddress local({"127.0.0.1", "::1", "10.0.0.0/8"});
    CHECK(local.resolve("127.0.0.1", nullptr) == "127.0.0.1");
    CHECK(local.resolve("127.0.0.1", "192.0.2.7") == "192.0.2.7");
    CHECK(local.resolve("::1", "2001:db8::5") == "2001:db8::5");
    CHECK(local.resolve("127.0.0.1", " 192.0.2.7 ") == "192.0.2.7");
    // An untrusted peer's header is ignored: anyone can send it.
    CHECK(local.resolve("198.51.100.3", "192.0.2.7") == "198.51.100.3");
    // What the client put in front is forged; the entry nginx appended is the client.
    CHECK(local.resolve("127.0.0.1", "1.2.3.4, 192.0.2.7") == "192.0.2.7");
    // Several trusted hops: skipped, right to left, to the first untrusted one.
    CHECK(local.resolve("127.0.0.1", "192.0.2.7, 10.1.2.3") == "192.0.2.7");
    CHECK(local.resolve("127.0.0.1", "9.9.9.9,192.0.2.7,10.1.2.3,10.4.5.6") == "192.0.2.7");
    // Every hop trusted: the leftmost one.
    CHECK(local.resolve("127.0.0.1", "10.1.2.3") == "10.1.2.3");
    // v4-mapped entries are plain IPv4, as the front door shows the socket's peer.
    CHECK(local.resolve("127.0.0.1", "::ffff:192.0.2.7") == "192.0.2.7");
    // Garbage ends the walk at the last address that could be trusted.
    CHECK(local.resolve("127.0.0.1", "unknown") == "127.0.0.1");
    CHECK(local.resolve("127.0.0.1", "192.0.2.7, garbage") == "127.0.0.1");
    CHECK(local.resolve("127.0.0.1", "garbage, 192.0.2.7") == "192.0.2.7");
    CHECK(local.resolve("127.0.0.1", "") == "127.0.0.1");
    CHECK(local.resolve("127.0.0.1", ",,,") == "127.0.0.1");
    CHECK(local.resolve("127.0.0.1", "192.0.2.7,") == "127.0.0.1");
    CHECK(local.resolve("127.0.0.1", "[2001:db8::1]:4711") == "127.0.0.1");  // not an address (RFC 7239 form)
}

TEST_CASE("a hostile X-Forwarded-For costs a bounded walk", "[client-address]") {
    const ClientAddress local({"127.0.0.0/8"});
    // 20,000 trusted hops behind a client: only the last 16 are read, so the walk ends
    // at the 16th from the right (a trusted one), never reaching the client on the left.
    std::string many = "192.0.2.7";
    for (int i = 1; i <= 20000; ++i) many += ",127.0.0." + std::to_string(i % 250 + 1);
    CHECK(local.resolve("127.0.0.1", many.c_str()) == "127.0.0." + std::to_string((20000 - 15) % 250 + 1));
    // Within 16 hops the client is found.
    std::string few = "192.0.2.7";
    for (int i = 0; i < 15; ++i) few += ", 127.0.0.2";
    CHECK(local.resolve("127.0.0.1", few.c_str()) == "192.0.2.7");
    const std::string huge(1 << 20, ',');
    CHECK(local.resolve("127.0.0.1", huge.c_str()) == "127.0.0.1");
}
