#pragma once
// A real WebRTC viewer for tests and the bench: GStreamer's webrtcbin with a
// recvonly H.264 transceiver offers, POSTs the offer to the service's WHEP
// endpoint over real HTTP, takes the 201 answer and decodes what arrives
// (rtph264depay ! h264parse ! avdec_h264), counting decoded frames. When the
// answer names urn:ietf:params:rtp-hdrext:ntp-64, the depayloader reads each
// frame's capture time from it and every decoded frame gives a capture to
// decoder latency. close() (and the destructor) DELETEs the peer.
// Thread affinity: one test thread; GStreamer's threads only update counters.
#include "http_client.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace camrelay::testing {

class WhepClient {
public:
    // extraHeaders: e.g. basicAuth(...) for a service with auth on.
    WhepClient(int port, std::string cameraId, std::string extraHeaders = {});
    ~WhepClient();
    WhepClient(const WhepClient&) = delete;
    WhepClient& operator=(const WhepClient&) = delete;

    // Offers, POSTs and (on 201) applies the answer. Returns the POST's
    // response; throws when the local webrtcbin cannot make an offer.
    HttpResponse connect(int gatherTimeoutMs = 10000);
    // The offer text connect() sent (for tests that alter it).
    const std::string& offerText() const { return offer_; }
    // Makes the offer only (no POST): for tests that post it themselves.
    std::string makeOffer(int gatherTimeoutMs = 10000);
    // Where DELETE goes ("" before a 201).
    const std::string& location() const { return location_; }

    uint64_t frames() const;
    bool waitFrames(uint64_t count, int timeoutMs) const;
    // Decoded frames per second over the next windowMs.
    double measureFps(int windowMs) const;
    // From the start of connect() to the first decoded frame; -1 before it.
    double firstFrameSeconds() const;
    // Capture to decoded, in ms, one per decoded frame that had a capture time.
    std::vector<double> latenciesMs() const;
    // ICE/peer connection state of the local webrtcbin (GstWebRTCPeerConnectionState: 2 connected).
    int connectionState() const;

    // Stops reading: the local pipeline stops (packets pile up, then drop, in the kernel).
    void stopReading();
    // DELETE the peer (once); the status, or 0 when there was none to delete.
    int close();

private:
    struct State;
    std::shared_ptr<State> state_;
    int port_;
    std::string cameraId_, extraHeaders_, offer_, location_;
};

}  // namespace camrelay::testing
