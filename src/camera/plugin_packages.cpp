#include "plugin_packages.h"

#include "core/gobject_ptr.h"

#include <gst/gst.h>

#include <mutex>
#include <sstream>
#include <vector>

namespace camrelay {

namespace {

// Runs a program (no shell) and returns its stdout; empty when it cannot run or fails.
std::string capture(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    gchar* out = nullptr;
    gint status = 0;
    const gboolean ran = g_spawn_sync(nullptr, argv.data(), nullptr,
                                      GSpawnFlags(G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL), nullptr, nullptr,
                                      &out, nullptr, &status, nullptr);
    GUniquePtr<gchar> owned(out);
    if (!ran || !g_spawn_check_wait_status(status, nullptr) || !out) return {};
    return out;
}

std::map<std::string, std::string> readIndex() {
    std::map<std::string, std::string> index;
    std::vector<std::string> args = {"apt-cache", "show", "--no-all-versions"};
    std::istringstream names(capture({"apt-cache", "pkgnames", "gstreamer1.0-"}));
    for (std::string name; std::getline(names, name);)
        if (!name.empty()) args.push_back(name);
    if (args.size() == 3) return index;
    std::istringstream records(capture(args));
    std::string package;
    const std::string field = "Gstreamer-Elements:";
    for (std::string line; std::getline(records, line);) {
        if (line.rfind("Package: ", 0) == 0) package = line.substr(9);
        if (line.rfind(field, 0) != 0) continue;
        std::istringstream elements(line.substr(field.size()));
        for (std::string e; std::getline(elements, e, ',');) {
            const auto first = e.find_first_not_of(' ');
            if (first != std::string::npos) index.emplace(e.substr(first), package);
        }
    }
    return index;
}

}  // namespace

const std::map<std::string, std::string>& debianElementPackages() {
    static std::once_flag once;
    static std::map<std::string, std::string> index;
    std::call_once(once, [] { index = readIndex(); });
    return index;
}

std::optional<std::string> debianPackageOfElement(const std::string& element) {
    const auto& index = debianElementPackages();
    const auto it = index.find(element);
    if (it == index.end()) return std::nullopt;
    return it->second;
}

std::string missingElementAdvice(const std::string& element) {
    if (auto package = debianPackageOfElement(element))
        return "a GStreamer plugin package is missing: Debian's " + *package + " provides \"" + element +
               "\" (apt-get install " + *package + ")";
    return "no installed GStreamer plugin provides \"" + element +
           "\" and no Debian package lists it: check the spelling (gst-inspect-1.0 lists the elements you have), "
           "or install the plugin that provides it";
}

std::string parseErrorMessage(const GError* error) {
    if (!error) return "unknown error";
    std::string message = error->message;
    if (error->domain != GST_PARSE_ERROR || error->code != GST_PARSE_ERROR_NO_SUCH_ELEMENT) return message;
    // GStreamer says: no element "clockoverlay"
    const auto open = message.find('"');
    const auto close = open == std::string::npos ? open : message.find('"', open + 1);
    if (close == std::string::npos) return message;
    return message + ": " + missingElementAdvice(message.substr(open + 1, close - open - 1));
}

}  // namespace camrelay
