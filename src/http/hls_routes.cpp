#include "http/hls_routes.h"

#include "core/gobject_ptr.h"
#include "core/log.h"
#include "http/json.h"
#include "http/request.h"

#include <memory>

#define GST_CAT_DEFAULT camrelay_http_debug

namespace camrelay {

namespace {

constexpr const char* kPlaylistName = "index.m3u8";
constexpr size_t kMaxSegmentName = 64;

// A segment name as hlssink2 makes them here: letters, digits, '-' and '_', then ".ts".
bool isSegmentName(const std::string& name) {
    if (name.size() < 4 || name.size() > kMaxSegmentName || name.compare(name.size() - 3, 3, ".ts") != 0) return false;
    for (size_t i = 0; i + 3 < name.size(); ++i)
        if (!g_ascii_isalnum(name[i]) && name[i] != '-' && name[i] != '_') return false;
    return true;
}

// The playlist as served: each segment URI gets the request's stream token,
// since players resolve segment URIs without the playlist's query.
std::string withToken(const std::string& playlist, const char* token) {
    if (!token || !*token) return playlist;
    GUniquePtr<gchar> escaped(g_uri_escape_string(token, nullptr, FALSE));
    const std::string query = std::string("?token=") + escaped.get();
    std::string out;
    size_t start = 0;
    while (start < playlist.size()) {
        size_t end = playlist.find('\n', start);
        if (end == std::string::npos) end = playlist.size();
        const std::string line = playlist.substr(start, end - start);
        out += line;
        if (!line.empty() && line[0] != '#') out += query;
        out += "\n";
        start = end + 1;
    }
    return out;
}

void respondPlaylistText(SoupServerMessage* msg, const std::string& text) {
    SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
    // Players poll the playlist about once a segment: a cache in front may
    // answer them for a second, no longer.
    soup_message_headers_replace(headers, "Cache-Control", "max-age=1");
    soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
    soup_server_message_set_response(msg, "application/vnd.apple.mpegurl", SOUP_MEMORY_COPY, text.data(), text.size());
}

void respondNoPlaylist(SoupServerMessage* msg, const std::string& problem) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", "1");
    respondError(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "hls_not_ready", problem);
}

// A playlist request held until its camera's first segments exist. Notices
// when its client goes away meanwhile (libsoup finishes the message then).
struct HeldPlaylist {
    GRef<SoupServerMessage> msg;
    std::shared_ptr<bool> gone = std::make_shared<bool>(false);
    bool paused = false;
    explicit HeldPlaylist(SoupServerMessage* m) : msg(GRef<SoupServerMessage>::ref(m)) {
        for (const char* signal : {"finished", "disconnected"})
            g_signal_connect_data(m, signal, G_CALLBACK(+[](SoupServerMessage*, gpointer data) {
                                      **static_cast<std::shared_ptr<bool>*>(data) = true;
                                  }),
                                  new std::shared_ptr<bool>(gone),
                                  [](gpointer data, GClosure*) { delete static_cast<std::shared_ptr<bool>*>(data); },
                                  GConnectFlags(0));
    }
};

void respondPlaylist(SoupServerMessage* msg, HlsOutput& hls, GHashTable* query) {
    const std::string token = queryValue(query, "token") ? queryValue(query, "token") : "";
    auto held = std::make_shared<HeldPlaylist>(msg);
    // The output outlives every waiter it answers (it answers them when it goes).
    HlsOutput* output = &hls;
    hls.requestPlaylist([held, token, output](const HlsOutput::Answer& answer) {
        if (*held->gone) return;
        SoupServerMessage* m = held->msg.get();
        if (answer.playlist) {
            respondPlaylistText(m, withToken(*answer.playlist, token.c_str()));
            output->countPlaylistRequest();
        } else {
            respondNoPlaylist(m, answer.problem);
        }
        if (held->paused) soup_server_message_unpause(m);
        held->paused = false;
        *held->gone = true;  // answered: a second answer would be dropped
    });
    // Answered at once, or held until the output answers.
    if (!*held->gone) {
        held->paused = true;
        soup_server_message_pause(msg);
    }
}

void respondSegment(SoupServerMessage* msg, HlsOutput& hls, const std::string& name, const std::string& camera) {
    GUniquePtr<GBytes> bytes(isSegmentName(name) ? hls.segment(name) : nullptr);
    if (!bytes)
        return respondError(msg, SOUP_STATUS_NOT_FOUND, "unknown_segment",
                            "camera " + camera + " has no HLS segment by that name (segments last about " +
                                "a playlist's length; fetch index.m3u8 again)");
    SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
    // Names are unique per pipeline run: a segment never changes.
    soup_message_headers_replace(headers, "Cache-Control", "public, max-age=31536000, immutable");
    soup_message_headers_set_content_type(headers, "video/mp2t", nullptr);
    soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
    soup_message_body_append_bytes(soup_server_message_get_response_body(msg), bytes.get());
    hls.countSegmentRequest();
}

}  // namespace

void respondHls(SoupServerMessage* msg, Camera& camera, Outputs& outputs, const std::string& name, GHashTable* query) {
    if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD");
    HlsOutput* hls = outputs.hls(camera.id());
    if (!hls) return respondError(msg, SOUP_STATUS_NOT_FOUND, "hls_off", "HLS is off ([hls] enabled=false)");
    if (name == kPlaylistName) return respondPlaylist(msg, *hls, query);
    respondSegment(msg, *hls, name, camera.id());
}

}  // namespace camrelay
