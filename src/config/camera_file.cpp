#include "camera_file.h"

#include "core/files.h"
#include "core/gobject_ptr.h"
#include "core/redact.h"

#include <glib/gstdio.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <utility>

namespace camrelay {

namespace {

// A file descriptor closed with its owner (the writer's only raw resource).
class FdHolder {
public:
    explicit FdHolder(int fd) : fd_(fd) {}
    ~FdHolder() {
        if (fd_ >= 0) ::close(fd_);
    }
    FdHolder(const FdHolder&) = delete;
    FdHolder& operator=(const FdHolder&) = delete;
    int get() const { return fd_; }
    // The caller closes it now (and checks close's result: NFS and quotas report there).
    [[nodiscard]] int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

std::string errnoText(const std::string& what, const std::string& path) {
    return what + " " + path + ": " + g_strerror(errno);
}

bool writeAll(int fd, const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += size_t(n);
    }
    return true;
}

// fsync of a directory, so a rename or unlink in it survives a power cut.
bool syncDirectory(const std::string& dir, std::string* error) {
    FdHolder fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
        if (error) *error = errnoText("cannot sync directory", dir);
        return false;
    }
    return true;
}

std::string dirOf(const std::string& path) {
    GUniquePtr<gchar> d(g_path_get_dirname(path.c_str()));
    return d.get();
}

// Removes a key and the comment lines GLib keeps above it (they describe it).
void removeKey(GKeyFile* kf, const char* group, const char* key) {
    g_key_file_set_comment(kf, group, key, nullptr, nullptr);
    g_key_file_remove_key(kf, group, key, nullptr);
}

bool isNameChar(char c) { return g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.'; }

// What a redaction marker at `at` in text stands for: "url:<scheme>@<host>" for
// scheme://***@host, "name:<property or header name>" for name=*** / name: ***
// / name=(string)***; empty when it stands for nothing we can name.
std::string markerContext(const std::string& text, size_t at) {
    if (at >= 3 && text.compare(at - 3, 3, "://") == 0) {
        size_t s = at - 3;
        while (s > 0 && (g_ascii_isalnum(text[s - 1]) || text[s - 1] == '+' || text[s - 1] == '-' || text[s - 1] == '.')) --s;
        const std::string scheme = text.substr(s, at - 3 - s);
        size_t h = at + 3;
        if (h >= text.size() || text[h] != '@') return {};
        const size_t end = text.find_first_of("/?#\"' \t\r\n", h + 1);
        const std::string host = text.substr(h + 1, end == std::string::npos ? std::string::npos : end - h - 1);
        GUniquePtr<gchar> lower(g_ascii_strdown(host.c_str(), -1));
        GUniquePtr<gchar> lowerScheme(g_ascii_strdown(scheme.c_str(), -1));
        return "url:" + std::string(lowerScheme.get()) + "@" + lower.get();
    }
    size_t p = at;
    static const std::string typed = "(string)";
    if (p >= typed.size() && text.compare(p - typed.size(), typed.size(), typed) == 0) p -= typed.size();
    while (p > 0 && (text[p - 1] == ' ' || text[p - 1] == '\t' || text[p - 1] == '"' || text[p - 1] == '\'')) --p;
    if (p == 0 || (text[p - 1] != '=' && text[p - 1] != ':')) return {};
    --p;
    while (p > 0 && (text[p - 1] == ' ' || text[p - 1] == '\t')) --p;
    size_t s = p;
    while (s > 0 && isNameChar(text[s - 1])) --s;
    if (s == p) return {};
    GUniquePtr<gchar> lower(g_ascii_strdown(text.substr(s, p - s).c_str(), -1));
    return "name:" + std::string(lower.get());
}

std::vector<size_t> markerPositions(const std::string& text) {
    std::vector<size_t> at;
    for (size_t p = text.find(kRedactionMarker); p != std::string::npos; p = text.find(kRedactionMarker, p + 3))
        at.push_back(p);
    return at;
}

// Matches text against its redacted form, each marker standing for any run
// of characters (glob '*' with backtracking to the last marker: linear in
// practice, quadratic at worst on 16 KB). The run each marker stood for, in
// order; nullopt when redacted is not text with runs replaced.
std::optional<std::vector<std::string>> redactedRuns(const std::string& text, const std::string& redacted) {
    const std::vector<size_t> markers = markerPositions(redacted);
    std::map<size_t, size_t> markerIndex;
    for (size_t k = 0; k < markers.size(); ++k) markerIndex[markers[k]] = k;
    std::vector<std::pair<size_t, size_t>> runs(markers.size(), {0, 0});
    size_t i = 0, j = 0;
    std::optional<size_t> lastMarker;  // pattern position of the last marker seen
    size_t lastStart = 0;
    auto isMarker = [&](size_t pos) { return markerIndex.count(pos) != 0; };
    while (i < text.size()) {
        if (j < redacted.size() && isMarker(j)) {
            lastMarker = j;
            lastStart = i;
            runs[markerIndex[j]] = {i, i};
            j += 3;
        } else if (j < redacted.size() && redacted[j] == text[i]) {
            ++i;
            ++j;
        } else if (lastMarker) {
            auto& run = runs[markerIndex[*lastMarker]];
            run.second = ++lastStart;
            i = lastStart;
            j = *lastMarker + 3;
        } else {
            return std::nullopt;
        }
    }
    while (j < redacted.size() && isMarker(j)) {
        runs[markerIndex[j]] = {text.size(), text.size()};
        j += 3;
    }
    if (j != redacted.size()) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& [start, end] : runs) out.push_back(text.substr(start, end - start));
    return out;
}

// Where a pipeline text sends what it holds: "scheme://host" of every URL (its
// userinfo left out) and "proxy=<value>" of every property naming a proxy
// (rtspsrc, souphttpsrc). A credential restored from the stored text may only
// go where the stored text already sends it.
std::set<std::string> destinations(const std::string& text) {
    std::set<std::string> out;
    auto lower = [](const std::string& s) {
        GUniquePtr<gchar> l(g_ascii_strdown(s.c_str(), -1));
        return std::string(l.get());
    };
    for (size_t at = text.find("://"); at != std::string::npos; at = text.find("://", at + 3)) {
        size_t s = at;
        while (s > 0 && (g_ascii_isalnum(text[s - 1]) || text[s - 1] == '+' || text[s - 1] == '-' || text[s - 1] == '.')) --s;
        const size_t end = std::min(text.find_first_of("/?#\"' \t\r\n\\", at + 3), text.size());
        std::string authority = text.substr(at + 3, end - at - 3);
        const size_t userinfo = authority.rfind('@');
        if (userinfo != std::string::npos) authority.erase(0, userinfo + 1);
        out.insert(lower(text.substr(s, at - s)) + "://" + lower(authority));
    }
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '=') continue;
        size_t n = i;
        while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t')) --n;
        size_t s = n;
        while (s > 0 && isNameChar(text[s - 1])) --s;
        const std::string name = lower(text.substr(s, n - s));
        if (name.find("proxy") == std::string::npos) continue;
        size_t v = i + 1;
        while (v < text.size() && (text[v] == ' ' || text[v] == '\t' || text[v] == '"' || text[v] == '\'')) ++v;
        const size_t end = std::min(text.find_first_of("\"' \t\r\n", v), text.size());
        const std::string value = text.substr(v, end - v);
        if (value != kRedactionMarker) out.insert(name + "=" + lower(value));  // proxy-pw=*** is a credential, not a place
    }
    return out;
}

}  // namespace

std::string cameraFileEtag(const std::string& bytes) {
    GUniquePtr<gchar> hex(g_compute_checksum_for_data(G_CHECKSUM_SHA256, reinterpret_cast<const guchar*>(bytes.data()),
                                                     bytes.size()));
    return "\"" + std::string(hex.get(), 16) + "\"";
}

bool ifMatchAccepts(const std::string& ifMatch, const std::string& currentEtag) {
    size_t start = 0;
    while (start <= ifMatch.size()) {
        size_t end = ifMatch.find(',', start);
        if (end == std::string::npos) end = ifMatch.size();
        std::string tag = ifMatch.substr(start, end - start);
        const size_t first = tag.find_first_not_of(" \t");
        const size_t last = tag.find_last_not_of(" \t");
        tag = first == std::string::npos ? "" : tag.substr(first, last - first + 1);
        // Strong comparison (RFC 9110 13.1.1): a weak tag W/"..." never matches.
        if (tag == "*" || (!tag.empty() && tag == currentEtag)) return true;
        start = end + 1;
    }
    return false;
}

bool isWritableKeyName(const std::string& key) {
    if (key.empty() || key.size() > 64) return false;
    return std::all_of(key.begin(), key.end(), [](char c) { return g_ascii_isalnum(c) || c == '-'; });
}

std::optional<std::string> editCameraFileText(const std::string& oldText, const std::vector<CameraKeyValue>& values,
                                              CameraEditMode mode, std::string* error) {
    for (const CameraKeyValue& v : values) {
        if ((v.group != kCameraGroup && v.group != kRecordGroup) || !isWritableKeyName(v.key)) {
            if (error) *error = "cannot write key \"" + clipText(v.key, kMaxQuotedBytes) + "\"";
            return std::nullopt;
        }
    }
    GUniquePtr<GKeyFile> kf(g_key_file_new());
    if (!oldText.empty()) {
        GError* raw = nullptr;
        const bool loaded = g_key_file_load_from_data(kf.get(), oldText.data(), oldText.size(), G_KEY_FILE_KEEP_COMMENTS, &raw);
        GUniquePtr<GError> e(raw);
        if (!loaded) {
            // A replacement does not need the old text; a change of single keys does.
            if (mode == CameraEditMode::Merge) {
                if (error) *error = "the file is not a key file GLib can read: replace it whole (PUT) or fix it by hand";
                return std::nullopt;
            }
            kf.reset(g_key_file_new());
        }
    }
    auto given = [&](const char* group, const char* key) {
        return std::any_of(values.begin(), values.end(), [&](const CameraKeyValue& v) {
            return v.value && v.group == group && v.key == key;
        });
    };
    if (mode == CameraEditMode::Replace) {
        GUniquePtr<gchar*> groups(g_key_file_get_groups(kf.get(), nullptr));
        for (gchar** g = groups.get(); *g; ++g) {
            if (std::strcmp(*g, kCameraGroup) != 0 && std::strcmp(*g, kRecordGroup) != 0) {
                g_key_file_remove_group(kf.get(), *g, nullptr);
                continue;
            }
            GUniquePtr<gchar*> keys(g_key_file_get_keys(kf.get(), *g, nullptr, nullptr));
            for (gchar** k = keys.get(); k && *k; ++k)
                if (!given(*g, *k)) removeKey(kf.get(), *g, *k);
        }
    }
    // [camera] first in a new file: the loader's and a reader's first look.
    if (!g_key_file_has_group(kf.get(), kCameraGroup)) {
        g_key_file_set_string(kf.get(), kCameraGroup, "name", "");
        g_key_file_remove_key(kf.get(), kCameraGroup, "name", nullptr);
    }
    for (const CameraKeyValue& v : values) {
        const char* group = v.group.c_str();
        const char* key = v.key.c_str();
        if (!v.value) {
            if (g_key_file_has_key(kf.get(), group, key, nullptr)) removeKey(kf.get(), group, key);
            continue;
        }
        GUniquePtr<gchar> current(g_key_file_get_string(kf.get(), group, key, nullptr));
        if (current && *v.value == current.get()) continue;  // unchanged: its text and comment stay as they are
        g_key_file_set_string(kf.get(), group, key, v.value->c_str());
    }
    // An emptied [record] goes; [camera] stays (the loader needs it).
    if (g_key_file_has_group(kf.get(), kRecordGroup)) {
        gsize n = 0;
        GUniquePtr<gchar*> keys(g_key_file_get_keys(kf.get(), kRecordGroup, &n, nullptr));
        if (n == 0) g_key_file_remove_group(kf.get(), kRecordGroup, nullptr);
    }
    gsize length = 0;
    GUniquePtr<gchar> data(g_key_file_to_data(kf.get(), &length, nullptr));
    return std::string(data.get(), length);
}

CameraFileKeys cameraFileKeys(const std::string& text) {
    CameraFileKeys out;
    GUniquePtr<GKeyFile> kf(g_key_file_new());
    if (!g_key_file_load_from_data(kf.get(), text.data(), text.size(), G_KEY_FILE_NONE, nullptr)) return out;
    for (const char* group : {kCameraGroup, kRecordGroup}) {
        auto& list = group == kCameraGroup ? out.camera : out.record;
        GUniquePtr<gchar*> keys(g_key_file_get_keys(kf.get(), group, nullptr, nullptr));
        for (gchar** k = keys.get(); k && *k; ++k) {
            GUniquePtr<gchar> value(g_key_file_get_string(kf.get(), group, *k, nullptr));
            if (!value) value.reset(g_key_file_get_value(kf.get(), group, *k, nullptr));
            list.emplace_back(*k, value ? value.get() : "");
        }
    }
    return out;
}

namespace {
constexpr CameraPreset kPresets[] = {
    {"low", 640, 360, 10, 60},
    {"medium", 1280, 720, 15, 75},
    {"high", 1920, 1080, 30, 85},
};
}  // namespace

const CameraPreset* findCameraPreset(const std::string& name) {
    for (const CameraPreset& p : kPresets)
        if (name == p.name) return &p;
    return nullptr;
}

std::string cameraPresetNames() { return "low, medium, high"; }

std::optional<std::string> restoreCredentials(const std::string& stored, const std::string& edited, std::string* why) {
    const std::vector<size_t> wanted = markerPositions(edited);
    if (wanted.empty()) return edited;
    // What each marker of the stored text's redacted form stood for, by context.
    std::map<std::string, std::vector<std::string>> credentials;
    const std::string redacted = redactCredentials(stored);
    if (!stored.empty()) {
        const std::vector<size_t> markers = markerPositions(redacted);
        const auto runs = redactedRuns(stored, redacted);
        if (runs && runs->size() == markers.size()) {
            for (size_t k = 0; k < markers.size(); ++k) {
                const std::string context = markerContext(redacted, markers[k]);
                if (!context.empty()) credentials[context].push_back((*runs)[k]);
            }
        }
    }
    // The stored credential only goes where the stored pipeline sends it: not
    // to another host through user-pw=***, not through a proxy of the editor's.
    const std::set<std::string> allowed = destinations(redacted);
    for (const std::string& place : destinations(redactCredentials(edited))) {
        if (allowed.count(place)) continue;
        if (why)
            *why = "contains *** (the redaction marker camrelay shows in place of credentials) and sends it to " +
                   clipText(place, kMaxQuotedBytes) +
                   ", which the stored pipeline does not use: send the credential itself";
        return std::nullopt;
    }
    std::map<std::string, size_t> used;
    std::string out;
    size_t from = 0;
    for (size_t at : wanted) {
        const std::string context = markerContext(edited, at);
        auto found = credentials.find(context);
        const size_t n = used[context]++;
        if (context.empty() || found == credentials.end() || n >= found->second.size()) {
            if (why) {
                *why = context.empty()
                           ? std::string("contains *** (the redaction marker camrelay shows in place of credentials) "
                                         "where no credential can stand: send the credential itself")
                           : "contains *** (the redaction marker camrelay shows in place of credentials) for " +
                                 context.substr(context.find(':') + 1) +
                                 ", but the stored pipeline has no credential there to keep: send the credential itself";
            }
            return std::nullopt;
        }
        out.append(edited, from, at - from);
        out += found->second[n];
        from = at + 3;
    }
    out.append(edited, from, std::string::npos);
    return out;
}

bool writeFileAtomically(const std::string& path, const std::string& bytes, std::string* error,
                         const BeforeRenameHook& beforeRename) {
    const std::string dir = dirOf(path);
    GUniquePtr<gchar> base(g_path_get_basename(path.c_str()));
    std::string temp = dir + "/." + base.get() + ".tmp-XXXXXX";
    // Camera files may hold credentials: the old file's mode, else owner and group only.
    GStatBuf st{};
    const int mode = g_stat(path.c_str(), &st) == 0 ? int(st.st_mode & 0777) : 0640;
    FdHolder fd(g_mkstemp_full(temp.data(), O_WRONLY | O_CLOEXEC, mode));
    if (fd.get() < 0) {
        if (error) *error = errnoText("cannot create a temporary file in", dir);
        return false;
    }
    bool ok = ::fchmod(fd.get(), mode_t(mode)) == 0;  // mkstemp's mode is filtered by the umask
    ok = ok && writeAll(fd.get(), bytes);
    ok = ok && ::fsync(fd.get()) == 0;
    const int savedErrno = errno;
    const bool closed = ::close(fd.release()) == 0;
    if (!ok || !closed) {
        if (!ok) errno = savedErrno;
        if (error) *error = errnoText("cannot write", temp);
        g_unlink(temp.c_str());
        return false;
    }
    if (beforeRename && !beforeRename(temp)) {
        if (error) *error = "stopped before the rename of " + temp;
        g_unlink(temp.c_str());
        return false;
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        if (error) *error = errnoText("cannot rename the new file over", path);
        g_unlink(temp.c_str());
        return false;
    }
    return syncDirectory(dir, error);
}

std::string CameraFileStore::pathOf(const std::string& id) const { return dir_ + "/" + id + ".conf"; }

std::string CameraFileStore::backupDir() const { return dir_ + "/.backup"; }

std::optional<std::string> CameraFileStore::read(const std::string& id, std::string* error) const {
    if (error) error->clear();
    const std::string path = pathOf(id);
    GStatBuf st{};
    if (g_lstat(path.c_str(), &st) != 0) {
        if (errno != ENOENT && error) *error = errnoText("cannot stat", path);
        return std::nullopt;
    }
    // Never read a device or a huge file through an API call.
    if (!S_ISREG(st.st_mode) || size_t(st.st_size) > kMaxCameraFileBytes) {
        if (error)
            *error = path + (S_ISLNK(st.st_mode) ? " is a symbolic link" : !S_ISREG(st.st_mode) ? " is not a regular file" : " is over 1 MiB");
        return std::nullopt;
    }
    return readFile(path, error);
}

std::optional<std::string> CameraFileStore::newBackupPath(const std::string& id, std::string* error) const {
    const std::string dir = backupDir();
    if (g_mkdir_with_parents(dir.c_str(), 0700) != 0) {
        if (error) *error = errnoText("cannot create", dir);
        return std::nullopt;
    }
    GDateTime* now = g_date_time_new_now_utc();
    GUniquePtr<gchar> stamp(g_date_time_format(now, "%Y%m%dT%H%M%SZ"));
    g_date_time_unref(now);
    const std::string base = dir + "/" + id + ".conf." + stamp.get();
    // Several changes in one second: -001, -002 ... after the highest of this
    // second still there (pruning removes the oldest, whose name is free again).
    int next = 0;
    for (const std::string& existing : backups(id)) {
        if (existing == base) next = std::max(next, 1);
        else if (existing.size() == base.size() + 4 && existing.compare(0, base.size() + 1, base + "-") == 0)
            next = std::max(next, std::atoi(existing.c_str() + base.size() + 1) + 1);
    }
    if (next == 0) return base;
    if (next < 1000) {
        char suffix[8];
        g_snprintf(suffix, sizeof suffix, "-%03d", next);
        return base + suffix;
    }
    if (error) *error = "too many backups of " + id + " in one second";
    return std::nullopt;
}

std::vector<std::string> CameraFileStore::backups(const std::string& id) const {
    std::vector<std::string> out;
    GDir* raw = g_dir_open(backupDir().c_str(), 0, nullptr);
    if (!raw) return out;
    GUniquePtr<GDir> dir(raw);
    const std::string prefix = id + ".conf.";
    while (const char* name = g_dir_read_name(dir.get()))
        if (g_str_has_prefix(name, prefix.c_str())) out.push_back(backupDir() + "/" + name);
    std::sort(out.begin(), out.end());
    return out;
}

void CameraFileStore::removeStaleTemporaries(const std::string& id) const {
    GDir* raw = g_dir_open(dir_.c_str(), 0, nullptr);
    if (!raw) return;
    GUniquePtr<GDir> dir(raw);
    const std::string prefix = "." + id + ".conf.tmp-";
    std::vector<std::string> stale;
    while (const char* name = g_dir_read_name(dir.get()))
        if (g_str_has_prefix(name, prefix.c_str())) stale.push_back(dir_ + "/" + name);
    for (const std::string& path : stale) g_unlink(path.c_str());
}

void CameraFileStore::pruneBackups(const std::string& id) const {
    std::vector<std::string> all = backups(id);
    for (size_t i = 0; i + kMaxBackupsPerCamera < all.size(); ++i) g_unlink(all[i].c_str());
    // Every camera's: ordered by the time stamp after ".conf." (oldest first).
    std::vector<std::pair<std::string, std::string>> every;  // (stamp, name)
    GDir* raw = g_dir_open(backupDir().c_str(), 0, nullptr);
    if (!raw) return;
    GUniquePtr<GDir> dir(raw);
    while (const char* name = g_dir_read_name(dir.get())) {
        const char* stamp = std::strstr(name, ".conf.");
        if (stamp) every.emplace_back(stamp + 6, name);
    }
    if (every.size() <= kMaxBackupsTotal) return;
    std::sort(every.begin(), every.end());
    for (size_t i = 0; i + kMaxBackupsTotal < every.size(); ++i) g_unlink((backupDir() + "/" + every[i].second).c_str());
}

bool CameraFileStore::write(const std::string& id, const std::string& text, std::string* error) {
    std::string readError;
    const std::optional<std::string> old = read(id, &readError);
    if (!old && !readError.empty()) {
        if (error) *error = readError;
        return false;
    }
    removeStaleTemporaries(id);
    if (old) {
        const auto backup = newBackupPath(id, error);
        if (!backup || !writeFileAtomically(*backup, *old, error)) return false;
    }
    if (!writeFileAtomically(pathOf(id), text, error, beforeRename_)) return false;
    pruneBackups(id);
    return true;
}

bool CameraFileStore::remove(const std::string& id, std::string* error) {
    const std::string path = pathOf(id);
    const auto backup = newBackupPath(id, error);
    if (!backup) return false;
    if (::rename(path.c_str(), backup->c_str()) != 0) {
        if (error) *error = errnoText("cannot move", path);
        return false;
    }
    if (!syncDirectory(backupDir(), error) || !syncDirectory(dir_, error)) return false;
    pruneBackups(id);
    return true;
}

}  // namespace camrelay
