#include "http/camera_edit_routes.h"

#include "camera/graph_builder.h"
#include "config/camera_file.h"
#include "core/json_input.h"
#include "core/log.h"
#include "core/redact.h"
#include "http/access_gate.h"
#include "http/camera_json.h"
#include "http/json.h"
#include "http/request.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <regex>

#define GST_CAT_DEFAULT camrelay_http_debug

namespace camrelay {

namespace {

// A camera request body: a flat object of keys and one [record] object.
constexpr JsonInputLimits kBodyLimits{64 * 1024, 3};

// The loader's key order (config/camera_config.cpp), so a file made through
// the API reads like a hand-written one: name and source first.
const char* const kCameraKeyOrder[] = {"name", "source", "encoder", "width", "height", "framerate", "quality", "enabled",
                                       "jpeg-passthrough", "jpeg-chroma", "on-demand", "linger", "watchdog-timeout", "start-timeout",
                                       "reconnect-delay", "reconnect-max-delay", "h264-bitrate", "h264-quality",
                                       "h264-keyframe-interval", "h264-preset", "h264-tune"};

size_t keyRank(const std::string& key) {
    const auto* end = std::end(kCameraKeyOrder);
    return size_t(std::find(std::begin(kCameraKeyOrder), end, key) - std::begin(kCameraKeyOrder));
}

// One refusal, in the contract's shape (docs/api.md "Managing cameras").
struct EditError {
    guint status = SOUP_STATUS_BAD_REQUEST;
    std::string code;
    std::string message;
    std::string key;            // bad_config: the API's name of the key ("quality", "record.mode")
    ConfigProblems problems;    // bad_config: every problem the loader found
    std::optional<std::string> element;  // bad_pipeline
};

// "camera.quality" -> "quality", "record.mode" -> "record.mode".
std::string apiKey(const std::string& fileKey) {
    const std::string prefix = std::string(kCameraGroup) + ".";
    return fileKey.rfind(prefix, 0) == 0 ? fileKey.substr(prefix.size()) : fileKey;
}

void respondEditError(SoupServerMessage* msg, const EditError& e) {
    JsonObjectValue body;
    body.set("error", e.code).set("message", redactCredentials(e.message));
    if (e.code == "bad_config") {
        body.set("key", e.key);
        body.setEmptyArray("problems");
        for (const ConfigProblem& p : e.problems) {
            JsonObjectValue item;
            item.set("key", apiKey(p.key)).set("message", redactCredentials(p.toString()));
            body.append("problems", std::move(item));
        }
    }
    if (e.element) body.set("element", *e.element);
    respondJson(msg, e.status, body);
}

EditError badConfig(ConfigProblems problems) {
    EditError e;
    e.code = "bad_config";
    e.message = problems.empty() ? "invalid camera" : problems.front().toString();
    e.key = problems.empty() ? "" : apiKey(problems.front().key);
    e.problems = std::move(problems);
    return e;
}

EditError badKey(const std::string& file, const std::string& group, const std::string& key, const std::string& message) {
    return badConfig({{file, group + "." + clipText(key, kMaxQuotedBytes), message}});
}

EditError simpleError(guint status, std::string code, std::string message) {
    EditError e;
    e.status = status;
    e.code = std::move(code);
    e.message = std::move(message);
    return e;
}

const char* jsonTypeName(JsonNode* node) {
    switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_OBJECT: return "an object";
    case JSON_NODE_ARRAY: return "an array";
    case JSON_NODE_NULL: return "null";
    case JSON_NODE_VALUE: break;
    }
    const GType type = json_node_get_value_type(node);
    if (type == G_TYPE_STRING) return "a string";
    if (type == G_TYPE_BOOLEAN) return "a boolean";
    return "a number";
}

bool hasControlCharacters(const std::string& s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f; });
}

// A JSON member as the loader's text. nullopt + error for types a key cannot have.
std::optional<std::string> valueText(JsonNode* node, std::string* why) {
    if (JSON_NODE_TYPE(node) != JSON_NODE_VALUE) {
        *why = std::string("must be a JSON string, number or true/false (got ") + jsonTypeName(node) + ")";
        return std::nullopt;
    }
    const GType type = json_node_get_value_type(node);
    if (type == G_TYPE_STRING) {
        std::string s = json_node_get_string(node);
        // GKeyFile would escape them (no key can be injected); refused anyway: no
        // camera value has a use for a line break, and the file stays readable.
        if (hasControlCharacters(s)) {
            *why = "must not contain line breaks or other control characters";
            return std::nullopt;
        }
        return s;
    }
    if (type == G_TYPE_BOOLEAN) return std::string(json_node_get_boolean(node) ? "true" : "false");
    if (type == G_TYPE_INT64) return std::to_string(json_node_get_int(node));
    if (type == G_TYPE_DOUBLE) {
        const double v = json_node_get_double(node);
        if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(int64_t(v));
        // As a person wrote it (29.97, not 29.969999999999999); the loader names it ("not a whole number").
        char buffer[G_ASCII_DTOSTR_BUF_SIZE];
        return std::string(g_ascii_formatd(buffer, sizeof buffer, "%.15g", v));
    }
    *why = "must be a JSON string, number or true/false";
    return std::nullopt;
}

// The request body, read into the keys to write.
struct CameraRequest {
    std::string id;                       // from the body (may be empty)
    bool hasId = false;
    std::vector<CameraKeyValue> values;   // camera keys first (loader order), then record keys
    bool removeRecord = false;            // PATCH "record": null
};

// The members each object of the JSON text has, in document order of the
// objects' '{', counted on the text itself; and whether a string holds an
// escaped NUL (\u0000). json-glib keeps only the last of duplicate members
// ({"id":"a","id":"b"}) and cuts strings at a NUL ("a\u0000b" -> "a"): both
// would make the file say something else than what a reader of the body sees.
struct RawJsonShape {
    std::vector<size_t> objectMembers;
    bool nul = false;
};

RawJsonShape rawJsonShape(const std::string& text) {
    RawJsonShape shape;
    std::vector<std::optional<size_t>> open;  // per open bracket: its index in objectMembers, nullopt for arrays
    bool expectKey = false;                   // the next string in this object is a member name
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"') {
            const bool isKey = expectKey;
            for (++i; i < text.size() && text[i] != '"'; ++i) {
                if (text[i] != '\\') continue;
                if (text.compare(i + 1, 5, "u0000") == 0) shape.nul = true;
                ++i;
            }
            if (isKey && !open.empty() && open.back()) ++shape.objectMembers[*open.back()];
            expectKey = false;
        } else if (c == '{') {
            open.push_back(shape.objectMembers.size());
            shape.objectMembers.push_back(0);
            expectKey = true;
        } else if (c == '[') {
            open.push_back(std::nullopt);
        } else if (c == '}' || c == ']') {
            if (!open.empty()) open.pop_back();
        } else if (c == ',') {
            expectKey = !open.empty() && open.back().has_value();
        }
    }
    return shape;
}

// The parsed objects in the order of their '{' in the text.
void parsedObjectSizes(JsonNode* node, std::vector<size_t>* sizes) {
    if (JSON_NODE_HOLDS_OBJECT(node)) {
        JsonObject* object = json_node_get_object(node);
        sizes->push_back(json_object_get_size(object));
        GList* members = json_object_get_members(object);
        for (GList* m = members; m; m = m->next)
            parsedObjectSizes(json_object_get_member(object, static_cast<const char*>(m->data)), sizes);
        g_list_free(members);
    } else if (JSON_NODE_HOLDS_ARRAY(node)) {
        JsonArray* array = json_node_get_array(node);
        for (guint k = 0; k < json_array_get_length(array); ++k) parsedObjectSizes(json_array_get_element(array, k), sizes);
    }
}

std::optional<CameraRequest> readRequest(const std::string& body, const std::string& file, bool merge, EditError* error) {
    JsonInput input(body, kBodyLimits);
    if (!input.ok()) {
        *error = simpleError(SOUP_STATUS_BAD_REQUEST, "bad_json", "the body must be one JSON object: " + input.error());
        return std::nullopt;
    }
    const RawJsonShape shape = rawJsonShape(body);
    std::vector<size_t> parsedSizes;
    parsedObjectSizes(input.root(), &parsedSizes);
    if (shape.nul || shape.objectMembers != parsedSizes) {
        *error = simpleError(SOUP_STATUS_BAD_REQUEST, "bad_json",
                             shape.nul ? "the body must not contain NUL characters (\\u0000)"
                                       : "the body must not name a member twice");
        return std::nullopt;
    }
    JsonNode* root = input.root();
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        *error = simpleError(SOUP_STATUS_BAD_REQUEST, "bad_json", std::string("the body must be one JSON object (got ") +
                                                                      jsonTypeName(root) + ")");
        return std::nullopt;
    }
    CameraRequest request;
    // One member as a key of the file: null removes it (PATCH), else its value as the loader's text.
    auto addValue = [&](const char* group, const std::string& key, JsonNode* value) {
        if (!isWritableKeyName(key)) {
            *error = badKey(file, group, key, "unknown key");
            return false;
        }
        if (JSON_NODE_HOLDS_NULL(value)) {
            if (merge) request.values.push_back({group, key, std::nullopt});
            return true;
        }
        std::string why;
        auto text = valueText(value, &why);
        if (!text) {
            *error = badKey(file, group, key, why);
            return false;
        }
        request.values.push_back({group, key, std::move(text)});
        return true;
    };
    std::optional<const CameraPreset*> preset;
    JsonObject* object = json_node_get_object(root);
    GList* members = json_object_get_members(object);
    std::unique_ptr<GList, void (*)(GList*)> membersOwner(members, [](GList* l) { g_list_free(l); });
    for (GList* m = members; m; m = m->next) {
        const std::string name = static_cast<const char*>(m->data);
        JsonNode* node = json_object_get_member(object, name.c_str());
        if (name == "id") {
            if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
                *error = simpleError(SOUP_STATUS_BAD_REQUEST, "bad_camera_id",
                                     std::string("id must be a string (got ") + jsonTypeName(node) + ")");
                return std::nullopt;
            }
            request.id = json_node_get_string(node);
            request.hasId = true;
            continue;
        }
        if (name == "preset") {
            std::string presetName;
            if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING) presetName = json_node_get_string(node);
            const CameraPreset* p = findCameraPreset(presetName);
            if (!p) {
                *error = badKey(file, "camera", "preset", "must be one of " + cameraPresetNames() + " (got " +
                                                             (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING
                                                                  ? "\"" + clipText(presetName, kMaxQuotedBytes) + "\""
                                                                  : std::string(jsonTypeName(node))) + ")");
                return std::nullopt;
            }
            preset = p;
            continue;
        }
        if (name == "record") {
            if (JSON_NODE_HOLDS_NULL(node)) {
                request.removeRecord = merge;
                continue;
            }
            if (!JSON_NODE_HOLDS_OBJECT(node)) {
                *error = badKey(file, "camera", "record", std::string("must be an object of [record] keys (got ") +
                                                              jsonTypeName(node) + ")");
                return std::nullopt;
            }
            JsonObject* record = json_node_get_object(node);
            GList* keys = json_object_get_members(record);
            std::unique_ptr<GList, void (*)(GList*)> keysOwner(keys, [](GList* l) { g_list_free(l); });
            for (GList* k = keys; k; k = k->next) {
                const std::string key = static_cast<const char*>(k->data);
                if (!addValue(kRecordGroup, key, json_object_get_member(record, key.c_str()))) return std::nullopt;
            }
            continue;
        }
        if (!addValue(kCameraGroup, name, node)) return std::nullopt;
    }
    if (preset) {
        const CameraPreset& p = **preset;
        auto set = [&](const char* key, int value) {
            const bool given = std::any_of(request.values.begin(), request.values.end(), [&](const CameraKeyValue& v) {
                return v.group == kCameraGroup && v.key == key;
            });
            if (!given) request.values.push_back({kCameraGroup, key, std::to_string(value)});
        };
        set("width", p.width);
        set("height", p.height);
        set("framerate", p.framerate);
        set("quality", p.quality);
    }
    std::stable_sort(request.values.begin(), request.values.end(), [](const CameraKeyValue& a, const CameraKeyValue& b) {
        if (a.group != b.group) return a.group == kCameraGroup;
        return keyRank(a.key) < keyRank(b.key);
    });
    return request;
}

// GStreamer names the element it trips over in a few shapes; "" when it names none.
std::string elementOf(const std::string& message) {
    static const std::regex quoted(R"re(element "([^"]{1,200})")re");
    static const std::regex link(R"re(could not link (\S{1,200}) to (\S{1,200}))re");
    std::smatch m;
    if (std::regex_search(message, m, quoted)) return m[1].str();
    if (std::regex_search(message, m, link)) return m[2].str();
    return {};
}

// The file text checked as the service will load it: the loader's problems,
// then the pipeline GStreamer must be able to parse and link.
std::optional<EditError> checkCameraText(const std::string& id, const std::string& text) {
    const std::string file = id + ".conf";
    CameraConfigLoad load = parseCameraConfig(id, file, text);
    if (!load.problems.empty()) return badConfig(std::move(load.problems));
    GraphPlanResult plan = planGraph(load.config);
    if (plan.problems.empty()) return std::nullopt;
    for (const ConfigProblem& p : plan.problems) {
        if (p.key == "camera.source" || p.key == "camera.encoder") {
            EditError e = simpleError(SOUP_STATUS_BAD_REQUEST, "bad_pipeline", p.toString());
            e.element = elementOf(p.message);
            return e;
        }
    }
    return badConfig(std::move(plan.problems));
}

bool noPipelinesDir(SoupServerMessage* msg, const CameraEditContext& ctx) {
    if (!ctx.config.pipelinesDir.empty()) return false;
    respondError(msg, SOUP_STATUS_CONFLICT, "no_pipelines_dir",
                 "the service runs without a pipelines directory (--pipelines): cameras cannot be edited");
    return true;
}

const char* header(SoupServerMessage* msg, const char* name) {
    return soup_message_headers_get_one(soup_server_message_get_request_headers(msg), name);
}

// False (answered 412) when If-Match names another version of the file.
bool ifMatchOk(SoupServerMessage* msg, const std::string& currentText) {
    const char* ifMatch = header(msg, "If-Match");
    const std::string etag = cameraFileEtag(currentText);
    if (!ifMatch || ifMatchAccepts(ifMatch, etag)) return true;
    JsonObjectValue body;
    body.set("error", "etag_mismatch")
        .set("message", "the camera was changed since you read it (If-Match " + clipText(ifMatch, kMaxQuotedBytes) +
                            ", now " + etag + "): read it again and redo your change")
        .set("etag", etag);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "ETag", etag.c_str());
    respondJson(msg, SOUP_STATUS_PRECONDITION_FAILED, body);
    return false;
}

std::string storedValue(const std::string& text, const char* group, const std::string& key) {
    const CameraFileKeys keys = cameraFileKeys(text);
    const auto& list = std::string(group) == kCameraGroup ? keys.camera : keys.record;
    for (const auto& [k, v] : list)
        if (k == key) return v;
    return {};
}

// Writes, applies and answers; the shared tail of POST, PUT and PATCH.
void writeAndApply(SoupServerMessage* msg, const CameraEditContext& ctx, const std::string& id,
                   const std::optional<std::string>& oldText, CameraRequest request, CameraEditMode mode, guint status) {
    const std::string file = id + ".conf";
    // Credentials shown as *** come back as the stored ones (docs/api.md).
    for (CameraKeyValue& v : request.values) {
        if (v.group != kCameraGroup || (v.key != "source" && v.key != "encoder") || !v.value) continue;
        std::string why;
        auto restored = restoreCredentials(oldText ? storedValue(*oldText, kCameraGroup, v.key) : std::string(), *v.value, &why);
        if (!restored) return respondEditError(msg, badKey(file, kCameraGroup, v.key, why));
        v.value = std::move(restored);
    }
    if (request.removeRecord && oldText) {
        for (const auto& [key, value] : cameraFileKeys(*oldText).record) request.values.push_back({kRecordGroup, key, std::nullopt});
    }
    std::string error;
    const auto text = editCameraFileText(oldText.value_or(""), request.values, mode, &error);
    if (!text) return respondEditError(msg, badConfig({{file, "", error}}));
    if (auto bad = checkCameraText(id, *text)) return respondEditError(msg, *bad);

    CameraFileStore store(ctx.config.pipelinesDir);
    if (!store.write(id, *text, &error)) {
        logWarning(id, "camera file not written: " + error);
        return respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "write_failed", "the camera file was not changed: " + error);
    }
    const Identity* who = requestIdentity(msg);
    logInfo(id, std::string(status == SOUP_STATUS_CREATED ? "created" : "changed") + " over HTTP" +
                    (who && !who->user.empty() ? " by " + printableName(who->user) : std::string()));
    CameraPtr camera = ctx.registry.apply(loadCameraConfigFile(store.pathOf(id)));
    SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(headers, "ETag", cameraFileEtag(*text).c_str());
    if (status == SOUP_STATUS_CREATED) soup_message_headers_replace(headers, "Location", ("/api/cameras/" + id).c_str());
    if (!camera) return respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "camera " + id + " was written but not applied");
    respondJson(msg, status, cameraJson(*camera, ctx.outputs));
}

std::optional<std::string> readFileOrAnswer(SoupServerMessage* msg, const CameraFileStore& store, const std::string& id) {
    std::string error;
    auto text = store.read(id, &error);
    if (text) return text;
    // A symlink (config managers link files in), a device, an unreadable file:
    // the API does not replace what it cannot see whole; edit it where it lives.
    if (!error.empty()) respondError(msg, SOUP_STATUS_CONFLICT, "not_editable", "camera " + id + " cannot be edited through the API: " + error);
    else respondError(msg, SOUP_STATUS_NOT_FOUND, "unknown_camera", "no camera file " + id + ".conf");
    return std::nullopt;
}

}  // namespace

void createCamera(SoupServerMessage* msg, const CameraEditContext& ctx) {
    if (noPipelinesDir(msg, ctx)) return;
    EditError error;
    // The id is not known before the body is read: messages name "new.conf" until then.
    auto request = readRequest(requestBody(msg), "new.conf", false, &error);
    if (!request) return respondEditError(msg, error);
    const std::string id = request->id;
    if (!request->hasId || !isValidCameraId(id))
        return respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_camera_id",
                            "send the new camera's \"id\": only A-Z a-z 0-9 _ - and at most 64 characters");
    // Re-read with the file's name in messages.
    request = readRequest(requestBody(msg), id + ".conf", false, &error);
    if (!request) return respondEditError(msg, error);
    CameraFileStore store(ctx.config.pipelinesDir);
    std::string readError;
    const auto existing = store.read(id, &readError);
    if (existing || !readError.empty() || g_file_test(store.pathOf(id).c_str(), G_FILE_TEST_EXISTS) || ctx.registry.find(id))
        return respondError(msg, SOUP_STATUS_CONFLICT, "camera_exists",
                            "camera " + id + " exists: change it with PUT or PATCH /api/cameras/" + id);
    // Every camera costs threads, descriptors and memory: a bound the API keeps.
    const size_t cameras = ctx.registry.cameras().size();
    if (cameras >= size_t(ctx.config.maxCameras))
        return respondError(msg, SOUP_STATUS_CONFLICT, "too_many_cameras",
                            "the service has " + std::to_string(cameras) + " cameras, [limits] max-cameras is " +
                                std::to_string(ctx.config.maxCameras) + ": delete one first or raise the limit");
    writeAndApply(msg, ctx, id, std::nullopt, std::move(*request), CameraEditMode::Replace, SOUP_STATUS_CREATED);
}

void editCamera(SoupServerMessage* msg, const CameraEditContext& ctx, const std::string& id, bool replace) {
    if (noPipelinesDir(msg, ctx)) return;
    CameraFileStore store(ctx.config.pipelinesDir);
    const auto oldText = readFileOrAnswer(msg, store, id);
    if (!oldText || !ifMatchOk(msg, *oldText)) return;
    EditError error;
    auto request = readRequest(requestBody(msg), id + ".conf", !replace, &error);
    if (!request) return respondEditError(msg, error);
    if (request->hasId && request->id != id)
        return respondError(msg, SOUP_STATUS_BAD_REQUEST, "bad_camera_id",
                            "the body's id \"" + clipText(request->id, kMaxQuotedBytes) + "\" is not the URL's (" + id +
                                "): a camera is renamed by creating the new one and deleting the old");
    writeAndApply(msg, ctx, id, oldText, std::move(*request), replace ? CameraEditMode::Replace : CameraEditMode::Merge,
                  SOUP_STATUS_OK);
}

void deleteCamera(SoupServerMessage* msg, const CameraEditContext& ctx, const std::string& id) {
    if (noPipelinesDir(msg, ctx)) return;
    CameraFileStore store(ctx.config.pipelinesDir);
    const auto oldText = readFileOrAnswer(msg, store, id);
    if (!oldText || !ifMatchOk(msg, *oldText)) return;
    std::string error;
    if (!store.remove(id, &error)) {
        logWarning(id, "camera file not removed: " + error);
        return respondError(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "write_failed", "the camera file was not removed: " + error);
    }
    const Identity* who = requestIdentity(msg);
    logInfo(id, "deleted over HTTP" + (who && !who->user.empty() ? " by " + printableName(who->user) : std::string()) +
                    "; its file is in " + store.backupDir() + ", its recordings stay");
    ctx.registry.remove(id);
    soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
}

void respondCameraConfig(SoupServerMessage* msg, const CameraEditContext& ctx, const std::string& id) {
    if (noPipelinesDir(msg, ctx)) return;
    CameraFileStore store(ctx.config.pipelinesDir);
    const auto text = readFileOrAnswer(msg, store, id);
    if (!text) return;
    const std::string etag = cameraFileEtag(*text);
    const CameraFileKeys keys = cameraFileKeys(*text);
    JsonObjectValue keyObject;
    for (const auto& [key, value] : keys.camera)
        keyObject.set(key.c_str(), key == "source" || key == "encoder" ? redactCredentials(value) : value);
    JsonObjectValue record;
    for (const auto& [key, value] : keys.record) record.set(key.c_str(), value);
    JsonObjectValue body;
    body.set("id", id).set("etag", etag).set("keys", std::move(keyObject)).set("record", std::move(record));
    body.set("text", redactCredentials(*text));
    SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(headers, "ETag", etag.c_str());
    soup_message_headers_replace(headers, "Cache-Control", "no-store");
    respondJson(msg, SOUP_STATUS_OK, body);
}

void setCameraEtag(SoupServerMessage* msg, const CameraEditContext& ctx, const std::string& id) {
    if (ctx.config.pipelinesDir.empty()) return;
    std::string error;
    if (auto text = CameraFileStore(ctx.config.pipelinesDir).read(id, &error))
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "ETag", cameraFileEtag(*text).c_str());
}

}  // namespace camrelay
