// What rtsp_auth reads from a request URL and the role it grants (src/outputs/rtsp_auth.h).
#include "outputs/rtsp_auth.h"

#include <catch2/catch.hpp>

using namespace camrelay;

TEST_CASE("the RTSP URL's token parameter is found among others and percent-decoded", "[rtsp_auth]") {
    CHECK(rtspQueryToken(nullptr).empty());
    CHECK(rtspQueryToken("").empty());
    CHECK(rtspQueryToken("token=cr1.demo.1.sig") == "cr1.demo.1.sig");
    CHECK(rtspQueryToken("a=1&token=cr1.demo.1.sig&b=2") == "cr1.demo.1.sig");
    CHECK(rtspQueryToken("mytoken=x&token=y") == "y");  // the name must match whole
    CHECK(rtspQueryToken("tokens=x").empty());
    CHECK(rtspQueryToken("token=").empty());
    CHECK(rtspQueryToken("token=cr1.a%2Db.1.s") == "cr1.a-b.1.s");
    // A control path some clients append after the query is not part of it.
    CHECK(rtspQueryToken("token=cr1.demo.1.sig/stream=0") == "cr1.demo.1.sig");
    // Bad escapes, NUL bytes and oversized values give nothing (no credentials: 401).
    CHECK(rtspQueryToken("token=%00abc").empty());
    CHECK(rtspQueryToken("token=%zz").empty());
    CHECK(rtspQueryToken(("token=" + std::string(1025, 'x')).c_str()).empty());
    CHECK(rtspQueryToken(("token=" + std::string(1024, 'x')).c_str()).size() == 1024);
}

TEST_CASE("an RTSP identity's media-factory role names a stream token's one camera", "[rtsp_auth]") {
    Identity viewer{Identity::Kind::User, "alice", Role::Viewer, "", "basic"};
    Identity admin{Identity::Kind::User, "root", Role::Admin, "", "basic"};
    Identity token{Identity::Kind::Token, "", Role::Viewer, "yard", "token"};
    CHECK(rtspRole(viewer) == "viewer");
    CHECK(rtspRole(admin) == "admin");
    CHECK(rtspRole(token) == "token:yard");
}
