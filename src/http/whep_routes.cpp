#include "http/whep_routes.h"

#include "config/problem.h"
#include "core/log.h"
#include "http/json.h"
#include "http/pending_answer.h"
#include "http/request.h"

#include <memory>

namespace camrelay {

namespace {

bool isSdp(SoupServerMessage* msg) {
    const char* type = soup_message_headers_get_content_type(soup_server_message_get_request_headers(msg), nullptr);
    return type && g_ascii_strcasecmp(type, "application/sdp") == 0;
}

void respondAnswer(SoupServerMessage* msg, const std::string& cameraId, const WhepAnswer& answer) {
    if (answer.status != SOUP_STATUS_CREATED) return respondError(msg, answer.status, answer.errorCode, answer.message);
    SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
    const std::string location = "/api/cameras/" + cameraId + "/whep/" + answer.peerId;
    soup_message_headers_replace(headers, "Location", location.c_str());
    soup_message_headers_replace(headers, "ETag", ("\"" + answer.peerId + "\"").c_str());
    soup_message_headers_replace(headers, "Cache-Control", "no-store");
    // A page on another allowed origin reads where to DELETE.
    soup_message_headers_replace(headers, "Access-Control-Expose-Headers", "Location, ETag");
    soup_server_message_set_status(msg, SOUP_STATUS_CREATED, nullptr);
    soup_server_message_set_response(msg, "application/sdp", SOUP_MEMORY_COPY, answer.sdp.data(), answer.sdp.size());
}

void offer(SoupServerMessage* msg, const std::string& cameraId, WhepPeers& whep) {
    if (!isSdp(msg))
        return respondError(msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                            "send the SDP offer with Content-Type: application/sdp");
    const std::string body = requestBody(msg);
    if (body.size() > kMaxWhepOfferBytes)
        return respondError(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "offer_too_large",
                            "an SDP offer is at most " + std::to_string(kMaxWhepOfferBytes) + " bytes");
    if (body.empty()) return respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_sdp", "the body is empty: send an SDP offer");
    auto pending = std::make_shared<PendingAnswer>(msg);
    whep.offer(cameraId, body, [pending, cameraId, &whep](WhepAnswer& answer) {
        // The client left while ICE gathered: nobody will DELETE this peer.
        if (pending->gone() && answer.status == SOUP_STATUS_CREATED) {
            whep.remove(cameraId, answer.peerId);
            return;
        }
        pending->answer([&](SoupServerMessage* m) { respondAnswer(m, cameraId, answer); });
    });
    pending->pause();
}

}  // namespace

void handleWhep(SoupServerMessage* msg, const std::string& cameraId, const std::string& peerId, Outputs& outputs) {
    WhepPeers* whep = outputs.whep();
    if (peerId.empty()) {
        if (!methodIs(msg, "POST")) return respondMethodNotAllowed(msg, "POST");
        if (!whep) return respondError(msg, SOUP_STATUS_NOT_FOUND, "webrtc_off", "WebRTC is off ([webrtc] enabled=false)");
        return offer(msg, cameraId, *whep);
    }
    if (!methodIs(msg, "DELETE")) return respondMethodNotAllowed(msg, "DELETE");
    if (!whep || !whep->remove(cameraId, peerId))
        return respondError(msg, SOUP_STATUS_NOT_FOUND, "unknown_peer",
                            "camera " + cameraId + " has no WebRTC peer \"" + clipText(peerId, 80) + "\"");
    soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
}

}  // namespace camrelay
