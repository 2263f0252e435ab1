// /api/recordings[?camera=&from=&to=], /api/recordings/<id> (GET, HEAD, DELETE),
// /api/captures/<id> (GET, HEAD, DELETE) and the list behind
// /api/cameras/{id}/captures. Files are named by their ids (recording_paths.h):
// only an id parseRecordingId()/parseCaptureId() accepts ever becomes a path,
// and it is opened by a walk from the recordings dir that follows no symlink
// (recording_store.h). Listing runs on a worker thread; files go out through
// a FileSender (never the loop's time, never the whole file in memory).
#include "config/camera_config.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/access_gate.h"
#include "http/json.h"
#include "http/request.h"
#include "http/server.h"
#include "http/upgrade.h"
#include "recording/file_response.h"
#include "recording/off_loop.h"
#include "recording/recording_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>

#define GST_CAT_DEFAULT camrelay_http_debug

namespace camrelay {

namespace {

constexpr std::string_view kRecordingsPrefix = "/api/recordings";
constexpr std::string_view kCapturesPrefix = "/api/captures/";
// A segment is "being written" while its marker or the file changed this recently.
constexpr int64_t kWritingFreshSec = 30;
// Transfers at once, over every client: each holds a socket and a file.
constexpr size_t kMaxFileTransfers = 256;
constexpr int64_t kMaxUnixSeconds = 253402300799;  // 9999-12-31

std::string httpDate(int64_t unixSec) {
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(unixSec);
    GUniquePtr<gchar> text(t ? g_date_time_format(t, "%a, %d %b %Y %H:%M:%S GMT") : nullptr);
    return text ? text.get() : "";
}

bool newestFirst(const StoredFile& a, const StoredFile& b) {
    if (a.name.startUnix != b.name.startUnix) return a.name.startUnix > b.name.startUnix;
    if (a.name.sequence != b.name.sequence) return a.name.sequence > b.name.sequence;
    return a.name.camera < b.name.camera;
}

// A JSON answer made on a worker thread: a listing may hold thousands of
// items, and building or serialising it on the loop stalled every viewer
// (100 concurrent listings of 20000 files: /health waited 14 s).
struct JsonAnswer {
    guint status = SOUP_STATUS_OK;
    std::string text;
};

JsonAnswer errorAnswer(guint status, const char* code, const std::string& message) {
    JsonObjectValue body;
    body.set("error", code).set("message", message);
    return {status, body.toString()};
}

// Listings from request to the answer's last byte (the message's
// finalisation): each answer may be megabytes and a client that never reads
// keeps its own (400 such clients once took 1.4 GB). Beyond: 503.
constexpr int kMaxListingsInFlight = 4;
std::atomic<int> listingsInFlight{0};

void answerOffLoop(SoupServerMessage* msg, int retryAfterSec, std::function<JsonAnswer()> make) {
    if (listingsInFlight.load() >= kMaxListingsInFlight) {
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                     std::to_string(retryAfterSec).c_str());
        return respondError(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too_many_listings",
                            std::to_string(kMaxListingsInFlight) + " listings are being made or sent already");
    }
    ++listingsInFlight;
    g_object_set_data_full(G_OBJECT(msg), "camrelay-listing", GINT_TO_POINTER(1), [](gpointer) { --listingsInFlight; });
    GRef<SoupServerMessage> held = GRef<SoupServerMessage>::ref(msg);
    soup_server_message_pause(msg);
    offLoop<JsonAnswer>(
        [make]() {
            try {
                return make();
            } catch (...) {
                return errorAnswer(SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", currentExceptionText());
            }
        },
        [held](JsonAnswer& answer) {
            respondJsonText(held.get(), answer.status, std::move(answer.text));
            soup_server_message_unpause(held.get());
        });
}

struct FileRoutes {
    const ServiceConfig& config;
    const std::string root;
    FileSender sender;
    std::shared_ptr<DurationCache> durations;  // shared with listings still running at shutdown

    void handleRecordings(SoupServerMessage* msg, const char* path, GHashTable* query);
    void handleCaptures(SoupServerMessage* msg, const char* path);
    void list(SoupServerMessage* msg, GHashTable* query);
    void serve(SoupServerMessage* msg, const RecordingName& name);
    void remove(SoupServerMessage* msg, const RecordingName& name, bool capture);
};

void FileRoutes::handleRecordings(SoupServerMessage* msg, const char* path, GHashTable* query) {
    const std::string_view p(path);
    if (p == kRecordingsPrefix || p == "/api/recordings/") {
        if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD");
        return list(msg, query);
    }
    if (p.substr(0, kRecordingsPrefix.size() + 1) != "/api/recordings/")
        return respondError(msg, SOUP_STATUS_NOT_FOUND, "not_found", std::string("no API route ") + path);
    // The id is taken as sent (still percent-encoded): '%' is never part of an id.
    const std::optional<RecordingName> name = parseRecordingId(p.substr(kRecordingsPrefix.size() + 1));
    if (!name)
        return respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_recording_id",
                            "a recording id is <camera>/<YYYY-MM-DD>/<camera>-<YYYYMMDD>T<HHMMSS>Z[-N].mp4|mkv");
    if (isRead(msg)) return serve(msg, *name);
    if (methodIs(msg, "DELETE")) return remove(msg, *name, false);
    respondMethodNotAllowed(msg, "GET, HEAD, DELETE");
}

void FileRoutes::handleCaptures(SoupServerMessage* msg, const char* path) {
    const std::string_view p(path);
    const std::optional<RecordingName> name =
        p.substr(0, kCapturesPrefix.size()) == kCapturesPrefix ? parseCaptureId(p.substr(kCapturesPrefix.size()))
                                                               : std::nullopt;
    if (!name)
        return respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_capture_id",
                            "a capture id is <camera>/captures/<camera>-<YYYYMMDD>T<HHMMSS>Z.jpg");
    if (isRead(msg)) return serve(msg, *name);
    if (methodIs(msg, "DELETE")) return remove(msg, *name, true);
    respondMethodNotAllowed(msg, "GET, HEAD, DELETE");
}

// ?from=/?to=: Unix seconds; answers 400 naming the parameter when malformed.
bool unixParameter(SoupServerMessage* msg, GHashTable* query, const char* key, int64_t* value) {
    const char* text = queryValue(query, key);
    if (!text) return true;
    const std::optional<uint64_t> n = parseCount(text, uint64_t(kMaxUnixSeconds));
    if (!n) {
        respondError(msg, SOUP_STATUS_BAD_REQUEST, std::string("bad_") + key,
                     std::string(key) + " must be a time in Unix seconds, a whole number from 0 to " +
                         std::to_string(kMaxUnixSeconds));
        return false;
    }
    *value = int64_t(*n);
    return true;
}

void FileRoutes::list(SoupServerMessage* msg, GHashTable* query) {
    ScanOptions options;
    options.captures = false;
    if (const char* camera = queryValue(query, "camera")) {
        if (!isValidCameraId(camera))
            return respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_camera",
                                "camera must be a camera id: A-Z a-z 0-9 _ - and at most 64 characters");
        options.camera = camera;
    }
    if (!unixParameter(msg, query, "from", &options.fromUnix) || !unixParameter(msg, query, "to", &options.toUnix))
        return;
    if (options.fromUnix > options.toUnix)
        return respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_to", "to must not be before from");
    const std::string rootDir = root;
    std::shared_ptr<DurationCache> cache = durations;
    answerOffLoop(msg, config.http.retryAfterSec, [rootDir, options, cache]() {
        ScanResult scan = scanRecordings(rootDir, options);
        if (!scan.error.empty()) return errorAnswer(SOUP_STATUS_INTERNAL_SERVER_ERROR, "recordings_unreadable", scan.error);
        std::sort(scan.files.begin(), scan.files.end(), newestFirst);
        const int64_t now = unixNowUs() / 1000000;
        JsonObjectValue body;
        body.setEmptyArray("recordings");
        for (const StoredFile& f : scan.files) {
            std::optional<double> duration;
            if (beingWritten(f, now, kWritingFreshSec)) duration = double(std::max<int64_t>(0, now - f.name.startUnix));
            else duration = cache->lookup(rootDir + "/" + f.name.id(), f.size, f.mtimeUnix);
            JsonObjectValue item;
            item.set("id", f.name.id()).set("camera", f.name.camera).set("start", f.name.startUnix);
            if (duration) item.set("duration", *duration);
            else item.setNull("duration");
            item.set("size", f.size).set("codec", codecForExtension(f.name.ext));
            item.set("complete", !f.hasMarker).set("url", "/api/recordings/" + f.name.id());
            body.append("recordings", std::move(item));
        }
        body.set("truncated", scan.truncated);
        return JsonAnswer{SOUP_STATUS_OK, body.toString()};
    });
}

void FileRoutes::serve(SoupServerMessage* msg, const RecordingName& name) {
    UniqueFd rootFd = openRecordingsRoot(root);
    std::optional<OpenedFile> file = rootFd ? openRecordingFile(rootFd.get(), name) : std::nullopt;
    if (!file) return respondError(msg, SOUP_STATUS_NOT_FOUND, "not_found", "no file " + name.id());
    if (sender.full()) {
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                     std::to_string(config.http.retryAfterSec).c_str());
        return respondError(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too_many_downloads",
                            std::to_string(sender.maxTransfers()) + " files are being sent already");
    }
    const uint64_t size = uint64_t(file->info.st_size);
    const int64_t mtime = int64_t(file->info.st_mtime);
    const std::string etag = "\"" + std::to_string(size) + "-" + std::to_string(mtime) + "\"";
    SoupMessageHeaders* in = soup_server_message_get_request_headers(msg);
    // get_list: two Range fields are two ranges (the whole file), not the last one.
    RangeRequest range = parseByteRange(soup_message_headers_get_list(in, "Range"), size);
    // If-Range with another validator: the file changed, send it whole.
    const char* ifRange = soup_message_headers_get_one(in, "If-Range");
    if (ifRange && etag != ifRange && httpDate(mtime) != ifRange) range.kind = RangeKind::Ignored;
    SoupMessageHeaders* out = soup_server_message_get_response_headers(msg);
    if (range.kind == RangeKind::Unsatisfiable) {
        soup_message_headers_replace(out, "Content-Range", ("bytes */" + std::to_string(size)).c_str());
        return respondError(msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, "range_not_satisfiable",
                            "the file has " + std::to_string(size) + " bytes");
    }
    const bool partial = range.kind == RangeKind::Single;
    const uint64_t offset = partial ? range.first : 0;
    const uint64_t length = partial ? range.length() : size;
    std::string head = partial ? "HTTP/1.1 206 Partial Content\r\n" : "HTTP/1.1 200 OK\r\n";
    head += std::string("Content-Type: ") + contentTypeForExtension(name.ext) + "\r\n";
    head += "Content-Length: " + std::to_string(length) + "\r\n";
    if (partial)
        head += "Content-Range: bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
                std::to_string(size) + "\r\n";
    head += "Accept-Ranges: bytes\r\nETag: " + etag + "\r\nLast-Modified: " + httpDate(mtime) + "\r\n";
    head += "Cache-Control: private, no-cache\r\n";
    // The gate's headers (security, CORS) already set on the message go out too.
    soup_message_headers_foreach(out, [](const char* n, const char* v, gpointer h) {
        if (g_ascii_strcasecmp(n, "Content-Type") && g_ascii_strcasecmp(n, "Content-Length") &&
            g_ascii_strcasecmp(n, "Cache-Control") && g_ascii_strcasecmp(n, "Connection"))
            *static_cast<std::string*>(h) += std::string(n) + ": " + v + "\r\n";
    }, &head);
    head += "Connection: close\r\n\r\n";
    const bool body = !methodIs(msg, "HEAD");
    if (StolenConnection c = stealConnection(msg, partial ? SOUP_STATUS_PARTIAL_CONTENT : SOUP_STATUS_OK))
        sender.send(std::move(c.stream), std::move(c.socket), std::move(head), body ? std::move(file->fd) : UniqueFd(),
                    offset, body ? length : 0);
}

void FileRoutes::remove(SoupServerMessage* msg, const RecordingName& name, bool capture) {
    UniqueFd rootFd = openRecordingsRoot(root);
    UniqueFd folder = rootFd ? openNameFolder(rootFd.get(), name) : UniqueFd();
    struct stat st {};
    if (!folder || fstatat(folder.get(), name.file.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
        return respondError(msg, SOUP_STATUS_NOT_FOUND, "not_found", "no file " + name.id());
    const std::string marker = name.file + ".partial";
    struct stat ms {};
    const bool hasMarker = !capture && fstatat(folder.get(), marker.c_str(), &ms, AT_SYMLINK_NOFOLLOW) == 0;
    StoredFile f;
    f.hasMarker = hasMarker;
    f.mtimeUnix = int64_t(st.st_mtime);
    f.markerMtimeUnix = hasMarker ? int64_t(ms.st_mtime) : 0;
    if (beingWritten(f, unixNowUs() / 1000000, kWritingFreshSec))
        return respondError(msg, SOUP_STATUS_CONFLICT, "being_written",
                            name.id() + " is being written; stop the recording first");
    if (unlinkat(folder.get(), name.file.c_str(), 0) != 0)
        return respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "delete_failed",
                            name.id() + ": " + g_strerror(errno));
    if (hasMarker && S_ISREG(ms.st_mode)) unlinkat(folder.get(), marker.c_str(), 0);
    const Identity* who = requestIdentity(msg);
    logInfo(name.camera, std::string(capture ? "capture " : "recording ") + name.id() + " deleted over HTTP" +
                             (who ? " by " + printableName(who->user) : std::string()));
    soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
}

}  // namespace

void addRecordingFileRoutes(SoupServer* server, const ServiceConfig& config) {
    auto* routes = new FileRoutes{config, recordingsDir(config), FileSender(config.clientTimeoutSec, kMaxFileTransfers),
                                  std::make_shared<DurationCache>()};
    auto destroy = [](gpointer data) { delete static_cast<FileRoutes*>(data); };
    soup_server_add_handler(
        server, "/api/recordings",
        [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable* query, gpointer data) noexcept {
            try {
                static_cast<FileRoutes*>(data)->handleRecordings(msg, path, query);
            } catch (...) {
                respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", currentExceptionText());
            }
        },
        routes, destroy);
    soup_server_add_handler(
        server, "/api/captures",
        [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer data) noexcept {
            try {
                static_cast<FileRoutes*>(data)->handleCaptures(msg, path);
            } catch (...) {
                respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", currentExceptionText());
            }
        },
        routes, nullptr);  // the /api/recordings handler owns routes
}

void respondCaptureList(SoupServerMessage* msg, const ServiceConfig& config, const std::string& camera) {
    ScanOptions options;
    options.camera = camera;
    options.segments = false;
    const std::string root = recordingsDir(config);
    answerOffLoop(msg, config.http.retryAfterSec, [root, options]() {
        ScanResult scan = scanRecordings(root, options);
        if (!scan.error.empty()) return errorAnswer(SOUP_STATUS_INTERNAL_SERVER_ERROR, "captures_unreadable", scan.error);
        std::sort(scan.files.begin(), scan.files.end(), newestFirst);
        JsonObjectValue body;
        body.setEmptyArray("captures");
        for (const StoredFile& f : scan.files) {
            JsonObjectValue item;
            item.set("id", f.name.id()).set("time", f.name.startUnix).set("size", f.size);
            item.set("url", "/api/captures/" + f.name.id());
            body.append("captures", std::move(item));
        }
        body.set("truncated", scan.truncated);
        return JsonAnswer{SOUP_STATUS_OK, body.toString()};
    });
}

}  // namespace camrelay
