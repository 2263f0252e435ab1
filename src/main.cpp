// camrelay: options, gst_init, the loop, unix signals, exit codes.
//   0 clean exit, 1 config problems, 2 bad command line, 3 cannot listen.
#include "auth/auth_key.h"
#include "auth/authenticator.h"
#include "auth/password_hash.h"
#include "camera/pipeline_watcher.h"
#include "camera/registry.h"
#include "config/service_config.h"
#include "core/gobject_ptr.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/systemd_notify.h"
#include "http/server.h"
#include "outputs/outputs.h"
#include "recording/retention.h"

#include <glib-unix.h>
#include <sys/resource.h>

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

using namespace camrelay;

namespace {

constexpr const char* kEmbeddedDemo = "/camrelay/pipelines/demo.conf";

struct Options {
    gchar* config = nullptr;
    gchar* pipelines = nullptr;
    gchar* listen = nullptr;
    gchar* data = nullptr;
    gint port = -1;
    gint rtspPort = -2;
    gboolean check = FALSE;
    gboolean hashPassword = FALSE;
};

// --hash-password: one line from stdin (no echo needed: it is meant for pipes
// and `read -s`), the hash to paste as password= in a [user:NAME] group.
int printPasswordHash() {
    std::string password;
    if (!std::getline(std::cin, password) || password.empty()) {
        std::fprintf(stderr, "camrelay: --hash-password reads the password from stdin (one line, not empty)\n");
        return 2;
    }
    if (password.size() > kMaxPasswordBytes) {
        std::fprintf(stderr, "camrelay: passwords are limited to %zu bytes\n", kMaxPasswordBytes);
        return 2;
    }
    std::printf("%s\n", hashPassword(password).c_str());
    return 0;
}

std::string joinAddresses(const std::vector<std::string>& addresses) {
    std::string text;
    for (const std::string& a : addresses) text += (text.empty() ? "" : ",") + a;
    return text;
}

// Auth: on when configured, or when listening beyond loopback. Its key signs
// stream tokens and lives in the data dir. Returns false with the message.
std::unique_ptr<Authenticator> makeAuthenticator(const ServiceConfig& config, std::string* error) {
    const bool enabled = authEnabled(config);
    if (!enabled) {
        if (!allLoopback(config.listenAddresses))
            logWarning("", "authentication is OFF ([auth] enabled=false) while listening on " + joinAddresses(config.listenAddresses) +
                               ": anyone who can reach this port can watch and control every camera");
        return std::make_unique<Authenticator>(config.auth, false, std::string());
    }
    auto key = loadOrCreateAuthKey(config.dataDir, error);
    if (!key) return nullptr;
    if (config.auth.users.empty())
        logWarning("", "authentication is on but no user is configured: only /health and the login page answer. "
                       "Add a [user:NAME] group with role=admin and password= from camrelay --hash-password");
    return std::make_unique<Authenticator>(config.auth, true, std::move(*key));
}

std::string embeddedDemo() {
    GUniquePtr<GBytes> demo(g_resources_lookup_data(kEmbeddedDemo, G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr));
    gsize size = 0;
    const char* text = static_cast<const char*>(g_bytes_get_data(demo.get(), &size));
    return std::string(text, size);
}

// No pipelines directory configured: cameras live in <data>/pipelines, so that
// cameras added or edited in the browser persist. The first start creates it
// with the demo camera (later starts leave it as the user made it). False
// when it cannot be made: the service then runs the embedded demo, read-only.
bool prepareDataPipelines(ServiceConfig& config) {
    const std::string dir = config.dataDir + "/pipelines";
    if (g_file_test(dir.c_str(), G_FILE_TEST_IS_DIR)) {
        config.pipelinesDir = dir;
        return true;
    }
    if (g_mkdir_with_parents(dir.c_str(), 0750) != 0) {
        logWarning("", "cannot create " + dir + ": " + g_strerror(errno) + "; serving the embedded demo camera (not editable)");
        return false;
    }
    const std::string demo = embeddedDemo();
    GError* raw = nullptr;
    if (!g_file_set_contents((dir + "/demo.conf").c_str(), demo.data(), gssize(demo.size()), &raw)) {
        GUniquePtr<GError> error(raw);
        logWarning("", "cannot write " + dir + "/demo.conf: " + errorMessage(error));
    }
    logInfo("", "created " + dir + " with the demo camera: cameras added in the browser are kept there");
    config.pipelinesDir = dir;
    return true;
}

std::vector<CameraConfigLoad> loadCameras(const ServiceConfig& config, ConfigProblems& problems) {
    if (!config.pipelinesDir.empty()) return loadCameraDirectory(config.pipelinesDir, problems);
    // No pipelines directory: the moving test camera compiled into the binary.
    std::vector<CameraConfigLoad> loads;
    loads.push_back(parseCameraConfig("demo", "embedded pipelines/demo.conf", embeddedDemo()));
    return loads;
}

// Every problem of the service config and every camera, as the camera would see it at start.
int check(const ServiceConfig& config, const ConfigProblems& serviceProblems, std::vector<CameraConfigLoad>& loads) {
    size_t problems = serviceProblems.size();
    for (const auto& p : serviceProblems) std::printf("%s\n", redactCredentials(p.toString()).c_str());
    for (auto& load : loads) {
        if (load.problems.empty()) {
            GraphPlanResult plan = planGraph(load.config);
            load.problems = std::move(plan.problems);
            if (plan.plan)
                std::printf("%s: ok (%s source): %s\n", load.config.file.c_str(), toString(plan.plan->sourceKind),
                            redactCredentials(plan.plan->pipelineText).c_str());
        }
        for (const auto& p : load.problems) std::printf("%s\n", redactCredentials(p.toString()).c_str());
        problems += load.problems.size();
    }
    std::printf("%zu camera(s), %zu problem(s)%s\n", loads.size(), problems,
                config.file.empty() ? "" : (" (service config " + config.file + ")").c_str());
    return problems ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    const GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &o.config, "Service config (INI)", "FILE"},
        {"pipelines", 'p', 0, G_OPTION_ARG_FILENAME, &o.pipelines, "Directory of <id>.conf camera files", "DIR"},
        {"port", 0, 0, G_OPTION_ARG_INT, &o.port, "HTTP port (0: any free port)", "N"},
        {"listen", 0, 0, G_OPTION_ARG_STRING, &o.listen, "Listen address(es): 127.0.0.1, ::, 0.0.0.0 or a list like 127.0.0.1,::1", "ADDR[,ADDR...]"},
        {"data", 0, 0, G_OPTION_ARG_FILENAME, &o.data, "Data directory: recordings, captures, auth.key (default ~/.local/share/camrelay)", "DIR"},
        {"rtsp-port", 0, 0, G_OPTION_ARG_INT, &o.rtspPort, "RTSP re-streaming port (0: any free port, -1: off)", "N"},
        {"check", 0, 0, G_OPTION_ARG_NONE, &o.check, "Validate the config and every camera file, then exit", nullptr},
        {"hash-password", 0, 0, G_OPTION_ARG_NONE, &o.hashPassword,
         "Read a password on stdin, print its hash for password= in a [user:NAME] group", nullptr},
        {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
    GOptionContext* context = g_option_context_new("- camera streaming service");
    g_option_context_add_main_entries(context, entries, nullptr);
    g_option_context_add_group(context, gst_init_get_option_group());
    GError* raw = nullptr;
    const bool parsed = g_option_context_parse(context, &argc, &argv, &raw);
    g_option_context_free(context);
    GUniquePtr<GError> optionError(raw);
    if (!parsed) {
        std::fprintf(stderr, "camrelay: %s (see --help)\n", errorMessage(optionError).c_str());
        return 2;
    }
    if (o.hashPassword) return printPasswordHash();
    gst_init(nullptr, nullptr);
    initLogging();

    ServiceConfigLoad service = o.config ? loadServiceConfigFile(o.config) : ServiceConfigLoad{};
    ServiceConfig& config = service.config;
    if (o.pipelines) config.pipelinesDir = o.pipelines;
    if (o.listen) {
        std::string why;
        auto addresses = parseListenAddresses(o.listen, &why);
        if (!addresses) {
            std::fprintf(stderr, "camrelay: --listen %s\n", why.c_str());
            return 2;
        }
        config.listenAddresses = std::move(*addresses);
    }
    if (o.data) config.dataDir = o.data;
    if (o.port != -1) {
        if (o.port < 0 || o.port > 65535) {
            std::fprintf(stderr, "camrelay: --port must be 0..65535 (got %d)\n", o.port);
            return 2;
        }
        config.port = o.port;
    }
    if (o.rtspPort != -2) {
        if (o.rtspPort < -1 || o.rtspPort > 65535) {
            std::fprintf(stderr, "camrelay: --rtsp-port must be -1..65535 (got %d)\n", o.rtspPort);
            return 2;
        }
        config.rtspEnabled = o.rtspPort >= 0;
        if (o.rtspPort >= 0) config.rtspPort = o.rtspPort;
    }
    // --check reads <data>/pipelines when it exists and creates nothing.
    if (config.pipelinesDir.empty() && (!o.check || g_file_test((config.dataDir + "/pipelines").c_str(), G_FILE_TEST_IS_DIR)))
        prepareDataPipelines(config);
    std::vector<CameraConfigLoad> loads = loadCameras(config, service.problems);
    if (o.check) return check(config, service.problems, loads);
    if (!service.problems.empty()) {
        for (const auto& p : service.problems) logError("", p.toString());
        return 1;
    }

    // Every viewer is a socket: lift the soft limit on open files (often 1024) to the hard one.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }

    std::string authError;
    std::unique_ptr<Authenticator> auth = makeAuthenticator(config, &authError);
    if (!auth) {
        logError("", authError);
        return 1;
    }

    GUniquePtr<GMainLoop> loop(g_main_loop_new(nullptr, FALSE));
    int exitCode = 0;
    {
        Registry registry;
        std::map<std::string, std::string> loadedTexts;  // what hot reload compares with
        // [limits] max-cameras holds at start too (files past it, by name, wait
        // for a free place: the watcher takes them in when a camera goes).
        if (loads.size() > size_t(config.maxCameras)) {
            for (size_t i = size_t(config.maxCameras); i < loads.size(); ++i)
                logWarning(loads[i].config.id, "not started: more than [limits] max-cameras=" +
                                                   std::to_string(config.maxCameras) + " camera files");
            loads.resize(size_t(config.maxCameras));
        }
        for (auto& load : loads) {
            loadedTexts[load.config.id] = load.text;
            const bool reported = !load.problems.empty();
            for (const auto& p : load.problems) logError(load.config.id, p.toString());
            CameraPtr camera = registry.add(std::move(load));
            if (!camera->configValid() && !reported) logError(camera->id(), camera->lastError());
        }
        Outputs outputs(registry, config, *auth);
        PushIngest ingest(config.clientTimeoutSec, config.publishIdleTimeoutSec);
        Connection publishersOfRemoved = registry.onRemoved([&ingest](const CameraPtr& camera) { ingest.detach(camera->id()); });
        HttpServer server(config, registry, outputs, ingest, *auth);
        std::string error;
        if (!server.listen(&error) || (outputs.rtsp() && !outputs.rtsp()->start(&error))) {
            logError("", error);
            return 3;
        }
        // URLs that work: a wildcard is reached as localhost, IPv6 in brackets.
        const std::string scheme = server.tls() ? "https://" : "http://";
        auto urlOf = [&](const std::string& address) { return scheme + urlHost(address) + ":" + std::to_string(server.port()) + "/"; };
        const std::string url = urlOf(config.listenAddresses.front());
        std::string others;
        for (size_t i = 1; i < config.listenAddresses.size(); ++i) {
            const std::string more = urlOf(config.listenAddresses[i]);
            if (more != url && others.find(more) == std::string::npos) others += " and " + more;
        }
        std::printf("camrelay: listening on %s%s (%zu camera(s))\n", url.c_str(), others.c_str(), registry.cameras().size());
        if (outputs.rtsp())
            std::printf("camrelay: RTSP re-streaming on %s://%s:%d/<camera id>\n", outputs.rtsp()->tls() ? "rtsps" : "rtsp",
                        urlHost(rtspListenAddress(config.listenAddresses)).c_str(), outputs.rtsp()->port());
        std::fflush(stdout);
        std::fflush(stdout);
        registry.startEnabled();
        Retention retention(config, registry);  // recordings' max-age/max-size, off the loop
        retention.start();

        SystemdNotifier systemd;
        systemd.ready("serving " + url);
        auto quit = [](gpointer data) noexcept -> gboolean {
            g_main_loop_quit(static_cast<GMainLoop*>(data));
            return G_SOURCE_CONTINUE;
        };
        SourceHandle sigint(g_unix_signal_add(SIGINT, quit, loop.get()));
        SourceHandle sigterm(g_unix_signal_add(SIGTERM, quit, loop.get()));
        // Hot reload: file changes (pipeline_watcher.h) and SIGHUP re-read the pipelines directory.
        std::unique_ptr<PipelineWatcher> watcher;
        SourceHandle sighup;
        if (!config.pipelinesDir.empty()) {
            watcher = std::make_unique<PipelineWatcher>(registry, config.pipelinesDir, size_t(config.maxCameras));
            std::string watchError;
            if (!watcher->start(std::move(loadedTexts), &watchError)) logWarning("", watchError);
            sighup = SourceHandle(g_unix_signal_add(SIGHUP, [](gpointer w) noexcept -> gboolean {
                try {
                    static_cast<PipelineWatcher*>(w)->rescan("SIGHUP");
                } catch (...) {
                    logError("", "SIGHUP reload failed: " + currentExceptionText());
                }
                return G_SOURCE_CONTINUE;
            }, watcher.get()));
        }
        g_main_loop_run(loop.get());

        logInfo("", "shutting down");
        systemd.stopping();
        // Nothing lost: every file being recorded is finalized while the cameras still run.
        outputs.recorders().finishAll(std::chrono::seconds(5));
        registry.stopAll();
    }
    g_free(o.config);
    g_free(o.pipelines);
    g_free(o.listen);
    g_free(o.data);
    return exitCode;
}
