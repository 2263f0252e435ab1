#include "files.h"

#include "gobject_ptr.h"

namespace camrelay {

std::optional<std::string> readFile(const std::string& path, std::string* error) {
    gchar* contents = nullptr;
    gsize length = 0;
    GError* raw = nullptr;
    if (!g_file_get_contents(path.c_str(), &contents, &length, &raw)) {
        GUniquePtr<GError> e(raw);
        if (error) *error = errorMessage(e);
        return std::nullopt;
    }
    GUniquePtr<gchar> owned(contents);
    return std::string(contents, length);
}

}  // namespace camrelay
