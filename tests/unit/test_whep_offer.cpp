// parseWhepOffer: what an SDP offer must have before a WebRTC peer is built for it.
#include "outputs/whep_peers.h"

#include <catch2/catch.hpp>

#include <regex>

using namespace camrelay;

namespace {

// The shape of Chromium's recvonly video offer (two H.264 profiles and VP8).
const std::string kOffer =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 102 106\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 AA:BB:CC\r\na=setup:actpass\r\na=mid:0\r\n"
    "a=extmap:4/recvonly urn:ietf:params:rtp-hdrext:ntp-64\r\n"
    "a=recvonly\r\na=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:106 H264/90000\r\na=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n";

std::string without(const std::string& pattern) { return std::regex_replace(kOffer, std::regex(pattern), ""); }

}  // namespace

TEST_CASE("an offer's H.264 payload type follows the stream's profile, else the first", "[whep]") {
    WhepOffer baseline = parseWhepOffer(kOffer, 0x42);
    REQUIRE(baseline.error.empty());
    CHECK(baseline.payloadType == 102);
    CHECK(baseline.profileLevelId == "42e01f");
    CHECK(baseline.ntpExtensionId == 4);
    CHECK(parseWhepOffer(kOffer, 0x4d).payloadType == 106);
    CHECK(parseWhepOffer(kOffer, 0x64).payloadType == 102);  // High not offered: the first
    CHECK(parseWhepOffer(kOffer, 0).payloadType == 102);
    CHECK(parseWhepOffer(without("a=extmap[^\r]*\r\n"), 0).ntpExtensionId == 0);
}

TEST_CASE("offers that cannot be answered are refused naming what is missing", "[whep]") {
    CHECK(parseWhepOffer("", 0).errorCode == "bad_sdp");
    CHECK(parseWhepOffer("GET / HTTP/1.1\r\n", 0).errorCode == "bad_sdp");
    CHECK(parseWhepOffer(std::string("v=0\r\n\0m=video", 13), 0).errorCode == "bad_sdp");
    CHECK(parseWhepOffer("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", 0).errorCode == "no_video");
    CHECK(parseWhepOffer(std::regex_replace(kOffer, std::regex("m=video"), "m=audio"), 0).errorCode == "no_video");
    CHECK(parseWhepOffer(std::regex_replace(kOffer, std::regex("H264"), "H265"), 0).errorCode == "no_h264");
    CHECK(parseWhepOffer(std::regex_replace(kOffer, std::regex("packetization-mode=1"), "packetization-mode=0"), 0).errorCode ==
          "no_h264");
    CHECK(parseWhepOffer(without("a=ice-pwd[^\r]*\r\n"), 0).errorCode == "no_ice");
    CHECK(parseWhepOffer(without("a=fingerprint[^\r]*\r\n"), 0).errorCode == "no_fingerprint");
    CHECK(parseWhepOffer(std::regex_replace(kOffer, std::regex("a=recvonly"), "a=inactive"), 0).errorCode == "bad_direction");
    std::string many = kOffer;
    for (int i = 0; i < 20; ++i) many += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
    CHECK(parseWhepOffer(many, 0).errorCode == "bad_sdp");
}

TEST_CASE("the profile of an access unit comes from its SPS", "[whep]") {
    const guint8 au[] = {0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1f, 0, 0, 1, 0x68, 0xee};
    CHECK(spsProfileIdc(au, sizeof au) == 0x64);
    const guint8 none[] = {0, 0, 0, 1, 0x65, 0x88, 0x84};
    CHECK(spsProfileIdc(none, sizeof none) == 0);
    CHECK(spsProfileIdc(au, 4) == 0);
}
