// [server] listen / --listen: IPv6, dual-stack and several addresses, each
// asked over a real socket of its own family (issue 13).
#include "http_client.h"
#include "service_process.h"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

using namespace camrelay::testing;

namespace {
// Machines without IPv6 (ipv6.disable=1, some containers) cannot run these.
bool ipv6Available() {
    const int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return false;
    close(fd);
    return true;
}

int healthAt(const std::string& address, int port) { return httpGetAt(address, port, "/health").status; }
}  // namespace

TEST_CASE("listen=:: answers IPv6 and IPv4 clients on one port, with auth on by default", "[listen][ipv6]") {
    if (!ipv6Available()) {
        WARN("no IPv6 on this machine: skipped");
        return;
    }
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 10)}}, {"--listen", "::"});
    CHECK(healthAt("::1", service.port()) == 200);
    CHECK(healthAt("127.0.0.1", service.port()) == 200);  // v4-mapped on the dual-stack socket
    // The URL the service prints is one that works.
    CHECK_THAT(service.printed(), Catch::Contains("listening on http://localhost:" + std::to_string(service.port()) + "/"));
    // :: is beyond loopback: auth is on unless configured off (401, not a camera list).
    CHECK(httpGetAt("::1", service.port(), "/api/cameras").status == 401);
    CHECK(httpGetAt("127.0.0.1", service.port(), "/api/cameras").status == 401);
}

TEST_CASE("listen=127.0.0.1,::1 opens one socket per address on the same port; auth stays off", "[listen][ipv6]") {
    if (!ipv6Available()) {
        WARN("no IPv6 on this machine: skipped");
        return;
    }
    ServiceProcess service({{"demo.conf", demoCamera(160, 120, 10)}}, {"--listen", "127.0.0.1,::1"});
    CHECK(healthAt("127.0.0.1", service.port()) == 200);
    CHECK(healthAt("::1", service.port()) == 200);
    CHECK(httpGetAt("::1", service.port(), "/api/cameras").status == 200);  // every address loopback: auth off
    const std::string printed = service.printed();
    CHECK_THAT(printed, Catch::Contains("http://127.0.0.1:" + std::to_string(service.port()) + "/ and http://[::1]:" +
                                        std::to_string(service.port()) + "/"));

    ServiceProcess v6only({{"demo.conf", demoCamera(160, 120, 10)}}, {"--listen", "::1"});
    CHECK(healthAt("::1", v6only.port()) == 200);
    CHECK_THROWS(healthAt("127.0.0.1", v6only.port()));  // nothing listens there
}

TEST_CASE("a listen address that is bad or cannot be bound is named and the service exits non-zero", "[listen]") {
    TempDir dir;
    const std::string common = " --port 0 --rtsp-port -1 --data " + dir.path() + " 2>&1";
    auto [badCode, badOut] = runCommand(camrelayBinary() + " --listen 127.0.0.1,nonsense" + common);
    CHECK(badCode != 0);
    CHECK_THAT(badOut, Catch::Contains("nonsense") && Catch::Contains("listen"));

    // A well-formed address this machine does not have: bind fails, named with its port.
    auto [bindCode, bindOut] = runCommand(camrelayBinary() + " --listen 127.0.0.1,192.0.2.1" + common);
    CHECK(bindCode == 3);
    CHECK_THAT(bindOut, Catch::Contains("cannot listen on 192.0.2.1:"));

    const std::string ini = dir.write("svc.ini", "[server]\nlisten=::1 , bogus::address\n");
    auto [fileCode, fileOut] = runCommand(camrelayBinary() + " --config " + ini + common);
    CHECK(fileCode == 1);
    CHECK_THAT(fileOut, Catch::Contains("svc.ini") && Catch::Contains("listen") && Catch::Contains("bogus::address"));
}
