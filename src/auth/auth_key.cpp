#include "auth_key.h"

#include "crypto.h"

#include <glib.h>
#include <glib/gstdio.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace camrelay {

namespace {
constexpr size_t kKeyBytes = 32;

std::string failure(const std::string& path, const char* what) {
    return "auth key " + path + ": " + what + ": " + std::strerror(errno) + " (set [paths] data= to a writable directory)";
}
}  // namespace

std::optional<std::string> loadOrCreateAuthKey(const std::string& dataDir, std::string* error) {
    const std::string path = dataDir + "/auth.key";
    if (g_mkdir_with_parents(dataDir.c_str(), 0700) != 0) {
        *error = failure(path, "cannot create the data directory");
        return std::nullopt;
    }
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        // O_EXCL: two services starting at once never both write a key.
        fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            *error = failure(path, "cannot create");
            return std::nullopt;
        }
        const std::string key = randomBytes(kKeyBytes);
        const bool written = write(fd, key.data(), key.size()) == ssize_t(key.size()) && fsync(fd) == 0;
        close(fd);
        if (!written) {
            unlink(path.c_str());
            *error = failure(path, "cannot write");
            return std::nullopt;
        }
        return key;
    }
    if (fd < 0) {
        *error = failure(path, "cannot open");
        return std::nullopt;
    }
    struct stat st {};
    std::string key(kKeyBytes + 1, '\0');
    const bool statted = fstat(fd, &st) == 0;
    const ssize_t n = read(fd, key.data(), key.size());
    close(fd);
    if (!statted || n != ssize_t(kKeyBytes)) {
        errno = n < 0 ? errno : EINVAL;
        *error = "auth key " + path + ": not a " + std::to_string(kKeyBytes) +
                 "-byte key file (delete it to make a new one; every stream token issued so far stops working)";
        return std::nullopt;
    }
    if (st.st_mode & 077) {
        *error = "auth key " + path + ": readable by other users (chmod 600 it, or delete it to make a new one)";
        return std::nullopt;
    }
    key.resize(kKeyBytes);
    return key;
}

}  // namespace camrelay
