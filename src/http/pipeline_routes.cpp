// POST /api/pipelines/validate, GET /api/cameras/{id}/graph
#include "http/pipeline_routes.h"

#include "camera/pipeline_check.h"
#include "config/camera_config.h"
#include "core/gobject_ptr.h"
#include "core/json_input.h"
#include "core/invoke.h"
#include "core/log.h"
#include "core/redact.h"
#include "http/graph_render.h"
#include "http/json.h"
#include "http/pending_answer.h"
#include "http/request.h"

#include <atomic>
#include <malloc.h>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>

namespace camrelay {

namespace {

std::atomic<int> checksInFlight{0};
std::atomic<int> probesInFlight{0};
constexpr int kProbeTimeoutMs = 5000;

// Runs work on a thread of its own and done(result) back on the calling
// thread's main context. A probe may block for seconds (and a stuck source
// longer, while its pipeline stops): it must not hold GIO's shared pool.
template <typename R> void onWorker(std::function<R()> work, std::function<void(R&)> done) {
    GRef<GMainContext> context = GRef<GMainContext>::adopt(g_main_context_ref_thread_default());
    std::thread([work = std::move(work), done = std::move(done), context]() mutable {
        auto result = std::make_shared<R>(work());
        // A probe's encoder (x264enc) allocates tens of MB in this thread's
        // malloc arena; glibc keeps freed arena memory unless asked (without
        // this, 30 probes left the service at 380 MB resident).
        malloc_trim(0);
        invokeOn(context.get(), [done = std::move(done), result]() { done(*result); });
    }).detach();
}

void respondBody(SoupServerMessage* msg, guint status, const char* contentType, const std::string& body) {
    soup_server_message_set_status(msg, status, nullptr);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control", "no-store");
    soup_server_message_set_response(msg, contentType, SOUP_MEMORY_COPY, body.data(), body.size());
}

void respondBusy(SoupServerMessage* msg, const char* retryAfter, const std::string& code, const std::string& message) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", retryAfter);
    respondError(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, code, message);
}

void respondBadMember(SoupServerMessage* msg, const std::string& member, const std::string& message) {
    JsonObjectValue body;
    body.set("error", "bad_request").set("message", message).set("member", member);
    respondJson(msg, SOUP_STATUS_BAD_REQUEST, body);
}

// A camera key as sent: letters, digits and '-', like every key of a camera file.
bool isKeyName(const char* name) {
    const size_t n = strlen(name);
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; ++i)
        if (!g_ascii_isalnum(name[i]) && name[i] != '-') return false;
    return true;
}

// A JSON scalar as a camera file value ("320", "30000/1001", "true").
std::optional<std::string> keyFileValue(JsonNode* node) {
    if (!JSON_NODE_HOLDS_VALUE(node)) return std::nullopt;
    switch (json_node_get_value_type(node)) {
    case G_TYPE_STRING: return std::string(json_node_get_string(node));
    case G_TYPE_BOOLEAN: return std::string(json_node_get_boolean(node) ? "true" : "false");
    case G_TYPE_INT64: return std::to_string(json_node_get_int(node));
    case G_TYPE_DOUBLE: {
        char text[G_ASCII_DTOSTR_BUF_SIZE];
        return std::string(g_ascii_dtostr(text, sizeof text, json_node_get_double(node)));
    }
    default: return std::nullopt;
    }
}

struct JsonAnswer {
    guint status = SOUP_STATUS_OK;
    std::string text;
};

struct ValidateRequest {
    CameraConfig config;
    bool probe = false;
};

// Reads the body into a camera config through the camera file parser (the
// same checks and words as a file). Answers 400 itself and returns nullopt on bad input.
std::optional<ValidateRequest> readValidateRequest(SoupServerMessage* msg, const std::string& body) {
    JsonInput input(body, JsonInputLimits{kMaxValidateBodyBytes, 8});
    if (!input.ok()) {
        respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_json", input.error());
        return std::nullopt;
    }
    const JsonObjectView root = input.rootObject();
    if (!root) {
        respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_json",
                     "send a JSON object: {\"source\": \"<gst-launch text>\", \"probe\": false}");
        return std::nullopt;
    }
    ValidateRequest request;
    std::string source;
    switch (root.string("source", &source)) {
    case JsonObjectView::Member::Missing:
        respondBadMember(msg, "source", "source: missing: send {\"source\": \"<gst-launch text>\"}");
        return std::nullopt;
    case JsonObjectView::Member::WrongType:
        respondBadMember(msg, "source", "source: must be a string (gst-launch text)");
        return std::nullopt;
    case JsonObjectView::Member::Ok: break;
    }
    if (source.size() > kMaxPipelineTextBytes) {
        respondBadMember(msg, "source", "source: is too long: " + std::to_string(source.size()) + " bytes; at most " +
                                            std::to_string(kMaxPipelineTextBytes) + " bytes");
        return std::nullopt;
    }
    if (root.boolean("probe", &request.probe) == JsonObjectView::Member::WrongType) {
        respondBadMember(msg, "probe", "probe: must be true or false");
        return std::nullopt;
    }

    // Every other member is a camera key ("width": 320) that shapes the plan.
    GUniquePtr<GKeyFile> file(g_key_file_new());
    g_key_file_set_string(file.get(), "camera", "source", source.c_str());
    JsonObject* object = json_node_get_object(input.root());
    GList* names = json_object_get_members(object);
    ScopeExit freeNames([names] { g_list_free(names); });
    for (GList* n = names; n; n = n->next) {
        const char* name = static_cast<const char*>(n->data);
        if (g_str_equal(name, "source") || g_str_equal(name, "probe")) continue;
        JsonNode* node = json_object_get_member(object, name);
        // id and record do not change the plan; the editor may send its whole form.
        if (g_str_equal(name, "id") && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING) continue;
        if (g_str_equal(name, "record") && JSON_NODE_HOLDS_OBJECT(node)) continue;
        if (JSON_NODE_HOLDS_NULL(node)) continue;  // as for PATCH: no value, the default
        const std::string shown = clipText(redactCredentials(name), kMaxQuotedBytes);
        if (!isKeyName(name)) {
            respondBadMember(msg, shown, shown + ": not a camera key");
            return std::nullopt;
        }
        const std::optional<std::string> value = keyFileValue(node);
        if (!value) {
            respondBadMember(msg, shown, shown + ": must be a string, a number or true/false");
            return std::nullopt;
        }
        g_key_file_set_string(file.get(), "camera", name, value->c_str());
    }
    gsize length = 0;
    GUniquePtr<gchar> text(g_key_file_to_data(file.get(), &length, nullptr));
    CameraConfigLoad load = parseCameraConfig("validate", "request", std::string(text.get(), length));
    if (!load.problems.empty()) {
        JsonObjectValue body;
        const ConfigProblem& first = load.problems.front();
        const std::string key = g_str_has_prefix(first.key.c_str(), "camera.") ? first.key.substr(7) : first.key;
        body.set("error", "bad_config").set("message", joinProblems(load.problems)).set("key", key);
        body.setEmptyArray("problems");
        for (const ConfigProblem& p : load.problems) {
            JsonObjectValue problem;
            problem.set("key", g_str_has_prefix(p.key.c_str(), "camera.") ? p.key.substr(7) : p.key).set("message", p.message);
            body.append("problems", std::move(problem));
        }
        respondJson(msg, SOUP_STATUS_BAD_REQUEST, body);
        return std::nullopt;
    }
    request.config = std::move(load.config);
    return request;
}

std::string checkJson(const PipelineCheck& check, bool probed) {
    JsonObjectValue plan;
    plan.set("kind", check.kind).set("pipeline", check.pipeline).set("jpeg_passthrough", check.jpegPassthrough);
    JsonObjectValue body;
    body.set("valid", check.valid).set("error", check.fault.error).set("element", check.fault.element);
    body.set("plan", std::move(plan));
    body.set("probed", probed).set("caps", check.sourceCaps).set("jpeg_caps", check.jpegCaps);
    return body.toString();
}

}  // namespace

void respondPipelineValidate(SoupServerMessage* msg) {
    if (!methodIs(msg, "POST")) return respondMethodNotAllowed(msg, "POST");
    const std::string body = requestBody(msg);
    if (body.size() > kMaxValidateBodyBytes)
        return respondError(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                            "the body is " + std::to_string(body.size()) + " bytes; at most " +
                                std::to_string(kMaxValidateBodyBytes));
    std::optional<ValidateRequest> request = readValidateRequest(msg, body);
    if (!request) return;

    std::atomic<int>& inFlight = request->probe ? probesInFlight : checksInFlight;
    const int limit = request->probe ? kMaxProbesInFlight : kMaxChecksInFlight;
    if (++inFlight > limit) {
        --inFlight;
        return request->probe
                   ? respondBusy(msg, "5", "too_many_probes", std::to_string(limit) + " probes are running already; try again")
                   : respondBusy(msg, "1", "too_many_validations",
                                 std::to_string(limit) + " validations are running already; try again");
    }
    const bool probe = request->probe;
    auto pending = std::make_shared<PendingAnswer>(msg);
    // The slot is given back by the worker; if no worker starts, here.
    struct Slot {
        std::atomic<int>& count;
        bool handedOver = false;
        ~Slot() { if (!handedOver) --count; }
    } slot{inFlight};
    onWorker<JsonAnswer>(
        [config = std::move(request->config), probe, &inFlight]() {
            JsonAnswer answer;
            try {
                answer = {SOUP_STATUS_OK, checkJson(checkCameraPipeline(config, PipelineCheckOptions{probe, kProbeTimeoutMs}), probe)};
            } catch (...) {
                JsonObjectValue error;
                error.set("error", "internal").set("message", currentExceptionText());
                answer = {SOUP_STATUS_INTERNAL_SERVER_ERROR, error.toString()};
            }
            --inFlight;
            return answer;
        },
        [pending](JsonAnswer& answer) {
            pending->answer([&](SoupServerMessage* m) { respondJsonText(m, answer.status, std::move(answer.text)); });
        });
    slot.handedOver = true;
    pending->pause();
}

void respondCameraGraph(SoupServerMessage* msg, Camera& camera, GHashTable* query) {
    if (!isRead(msg)) return respondMethodNotAllowed(msg, "GET, HEAD");
    const char* format = queryValue(query, "format");
    const std::string wanted = format ? format : "svg";
    if (wanted != "svg" && wanted != "dot")
        return respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_format",
                            "format must be svg or dot (got \"" + clipText(redactCredentials(wanted), kMaxQuotedBytes) + "\")");
    GstElement* pipeline = camera.runningPipeline();
    if (!pipeline || !GST_IS_BIN(pipeline))
        return respondError(msg, SOUP_STATUS_CONFLICT, "not_running",
                            "camera " + camera.id() + " runs no pipeline now (" + toString(camera.state()) + ")");
    // GStreamer's own dump: elements, pads, states, negotiated caps, properties.
    GUniquePtr<gchar> raw(gst_debug_bin_to_dot_data(GST_BIN(pipeline), GST_DEBUG_GRAPH_SHOW_ALL));
    std::string dot = redactCredentials(raw ? raw.get() : "");
    if (wanted == "dot") return respondBody(msg, SOUP_STATUS_OK, "text/vnd.graphviz; charset=utf-8", dot);

    if (dot.size() > kMaxDotBytes)
        return respondError(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "graph_too_large",
                            "the graph is " + std::to_string(dot.size()) + " bytes of DOT; at most " +
                                std::to_string(kMaxDotBytes) + " are rendered (ask for format=dot)");
    auto pending = std::make_shared<PendingAnswer>(msg);
    const bool queued = GraphRenderer::instance().submit(std::move(dot), [pending](SvgRender& render) {
        pending->answer([&](SoupServerMessage* m) {
            if (!render.error.empty())
                return respondError(m, SOUP_STATUS_INTERNAL_SERVER_ERROR, "render_failed", render.error);
            respondBody(m, SOUP_STATUS_OK, "image/svg+xml", render.svg);
        });
    });
    if (!queued)
        return respondBusy(msg, "1", "renderer_busy", "the graph renderer has " + std::to_string(GraphRenderer::kMaxWaiting) +
                                                           " renders waiting already; try again, or ask for format=dot");
    pending->pause();
}

}  // namespace camrelay
