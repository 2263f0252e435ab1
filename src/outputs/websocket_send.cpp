#include "websocket_send.h"

#include "outputs/json_message.h"
#include "outputs/websocket_protocol.h"

namespace camrelay {

namespace {
ViewerSockets::Bytes shared(std::string bytes) { return std::make_shared<const std::string>(std::move(bytes)); }
}  // namespace

void sendWsText(ViewerSockets& sockets, ViewerSockets::Client& client, const std::string& text) {
    sockets.sendControl(client, shared(websocketFrame(WsOpcode::Text, text)));
}

void sendWsError(ViewerSockets& sockets, ViewerSockets::Client& client, const std::string& code, const std::string& message) {
    sendWsText(sockets, client, JsonMessage("error").add("code", code).add("message", message).text());
}

void sendWsPong(ViewerSockets& sockets, ViewerSockets::Client& client, const std::string& payload) {
    sockets.sendControl(client, shared(websocketFrame(WsOpcode::Pong, payload)));
}

void closeWs(ViewerSockets& sockets, ViewerSockets::Client& client, uint16_t code, const std::string& reason) {
    sockets.sendControl(client, shared(websocketCloseFrame(code, reason)));
    sockets.closeAfterSending(client);
}

}  // namespace camrelay
