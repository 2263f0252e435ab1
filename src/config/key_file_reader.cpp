#include "key_file_reader.h"

#include "core/redact.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace camrelay {

namespace {
// Group and key names come from the file: a hostile one may be a megabyte long.
std::string keyName(const char* group, const char* key) {
    std::string name = clipText(group ? group : "", kMaxQuotedBytes);
    return key ? name + "." + clipText(key, kMaxQuotedBytes) : name;
}
// Redacted before it is cut: a URL cut inside its password has no '@' left.
std::string quoted(const std::string& text) { return "\"" + clipText(redactCredentials(text), kMaxQuotedBytes) + "\""; }
// A name ending in '*' stands for every name with that prefix ("user:*").
bool contains(std::initializer_list<const char*> names, const char* name) {
    return std::any_of(names.begin(), names.end(), [&](const char* n) {
        const size_t len = std::strlen(n);
        if (len && n[len - 1] == '*') return std::strncmp(n, name, len - 1) == 0;
        return std::strcmp(n, name) == 0;
    });
}

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool isControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// "[name]" with optional blanks after it, name without [ ] or control
// characters: GLib's rule for a group line.
bool isGroupLine(std::string_view line) {
    const size_t close = line.find(']');
    if (line.empty() || line[0] != '[' || close == std::string_view::npos || close == 1) return false;
    for (size_t i = 1; i < close; ++i)
        if (line[i] == '[' || isControl(line[i])) return false;
    for (size_t i = close + 1; i < line.size(); ++i)
        if (line[i] != ' ' && line[i] != '\t') return false;
    return true;
}

// "key=value" or "key[locale]=value" with a key GLib accepts.
bool isKeyLine(std::string_view line) {
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    std::string_view key = line.substr(0, eq);
    while (!key.empty() && isBlank(key.back())) key.remove_suffix(1);
    const size_t open = key.find('[');
    const std::string_view name = key.substr(0, open);
    if (name.empty() || name.find(']') != std::string_view::npos) return false;
    if (open == std::string_view::npos) return true;
    const std::string_view locale = key.substr(open);  // "[de_DE@euro]"
    if (locale.size() < 3 || locale.back() != ']') return false;
    for (char c : locale.substr(1, locale.size() - 2))
        if (!g_ascii_isalnum(c) && c != '-' && c != '_' && c != '.' && c != '@') return false;
    return true;
}

// Why the text is not a key file, naming the first bad line by its number
// only: the file may not be a camera file at all (a symlink to /etc/shadow),
// and a line of it must never be shown. Empty when every line is fine.
std::string firstBadLine(std::string_view text) {
    bool inGroup = false;
    size_t number = 0;
    while (!text.empty()) {
        ++number;
        const size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        while (!line.empty() && isBlank(line.front())) line.remove_prefix(1);
        const std::string at = "line " + std::to_string(number);
        if (line.empty() || line[0] == '#') continue;
        if (!g_utf8_validate(line.data(), gssize(line.size()), nullptr))
            return at + " is not UTF-8 text (camera files are UTF-8)";
        if (line[0] == '[') {
            if (!isGroupLine(line)) return at + " is not a valid [group] line";
            inGroup = true;
        } else if (!isKeyLine(line)) {
            return at + " is not a [group], a setting (name=value) or a # comment";
        } else if (!inGroup) {
            return at + " comes before the first [group]";
        }
    }
    return {};
}
}  // namespace

KeyFileReader::KeyFileReader(std::string fileLabel, const std::string& text, ConfigProblems& problems)
    : file_(std::move(fileLabel)), problems_(problems), keyFile_(g_key_file_new()) {
    // GLib's own syntax errors quote the offending line or value: they are
    // never shown. Lines are checked here first, and reported by number.
    if (std::string bad = firstBadLine(text); !bad.empty()) {
        add("", "syntax error: " + bad);
        return;
    }
    GError* raw = nullptr;
    parsed_ = g_key_file_load_from_data(keyFile_.get(), text.data(), text.size(), G_KEY_FILE_NONE, &raw);
    GUniquePtr<GError> error(raw);
    if (!parsed_) add("", "syntax error: not a key file GLib can read (its lines are not quoted)");
}

void KeyFileReader::problem(const char* group, const char* key, std::string message) {
    add(keyName(group, key), std::move(message));
}

void KeyFileReader::add(std::string key, std::string message) {
    if (problems_.size() < kMaxProblemsPerFile) {
        // Redacted before it is cut: a URL cut inside its password has no '@' left.
        problems_.push_back({file_, std::move(key), clipText(redactCredentials(message), kMaxMessageBytes)});
        return;
    }
    if (unlisted_++ == 0) {
        summaryAt_ = problems_.size();
        problems_.push_back({file_, "", ""});
    }
    problems_[summaryAt_].message = "\xE2\x80\xA6 and " + std::to_string(unlisted_) + " more problem" +
                                    (unlisted_ == 1 ? "" : "s") + " (not listed)";
}

void KeyFileReader::rejectUnknown(std::initializer_list<const char*> groups, const char* group,
                                  std::initializer_list<const char*> keys) {
    if (!parsed_) return;
    GUniquePtr<gchar*> names(g_key_file_get_groups(keyFile_.get(), nullptr));
    for (gchar** g = names.get(); *g; ++g) {
        if (!contains(groups, *g)) {
            problem(*g, nullptr, "unknown group [" + clipText(*g, kMaxQuotedBytes) + "]");
            continue;
        }
        if (std::strcmp(*g, group) != 0) continue;
        GUniquePtr<gchar*> ks(g_key_file_get_keys(keyFile_.get(), *g, nullptr, nullptr));
        for (gchar** k = ks.get(); k && *k; ++k)
            if (!contains(keys, *k)) problem(*g, *k, "unknown key");
    }
}

bool KeyFileReader::hasGroup(const char* group) const {
    return parsed_ && g_key_file_has_group(keyFile_.get(), group);
}

std::vector<std::string> KeyFileReader::groupNames() const {
    std::vector<std::string> out;
    if (!parsed_) return out;
    GUniquePtr<gchar*> names(g_key_file_get_groups(keyFile_.get(), nullptr));
    for (gchar** g = names.get(); *g; ++g) out.emplace_back(*g);
    return out;
}

bool KeyFileReader::has(const char* group, const char* key) const {
    return parsed_ && g_key_file_has_key(keyFile_.get(), group, key, nullptr);
}

std::optional<std::string> KeyFileReader::string(const char* group, const char* key) {
    if (!has(group, key)) return std::nullopt;
    GError* raw = nullptr;
    GUniquePtr<gchar> value(g_key_file_get_string(keyFile_.get(), group, key, &raw));
    GUniquePtr<GError> error(raw);
    if (!value) {
        problem(group, key, errorMessage(error));
        return std::nullopt;
    }
    std::string s = g_strstrip(value.get());
    return s;
}

std::optional<int> KeyFileReader::integer(const char* group, const char* key, int min, int max) {
    auto text = string(group, key);
    if (!text) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    long long v = g_ascii_strtoll(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || errno != 0) {
        problem(group, key, "not a whole number: " + quoted(*text));
        return std::nullopt;
    }
    if (v < min || v > max) {
        problem(group, key, "must be " + std::to_string(min) + ".." + std::to_string(max) + " (got " + clipText(redactCredentials(*text), kMaxQuotedBytes) + ")");
        return std::nullopt;
    }
    return static_cast<int>(v);
}

namespace {
// A whole number with an optional one-letter unit from `units` (each with its
// multiplier); nullopt when malformed or when it overflows.
struct Unit {
    char letter;
    int64_t factor;
};
std::optional<int64_t> scaled(const std::string& text, std::initializer_list<Unit> units) {
    if (text.empty() || !g_ascii_isdigit(text[0])) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = g_ascii_strtoull(text.c_str(), &end, 10);
    if (errno != 0 || v > uint64_t(INT64_MAX)) return std::nullopt;
    int64_t factor = 1;
    if (*end != '\0') {
        const char letter = g_ascii_toupper(*end);
        const Unit* unit = std::find_if(units.begin(), units.end(), [&](const Unit& u) { return u.letter == letter; });
        if (unit == units.end() || end[1] != '\0') return std::nullopt;
        factor = unit->factor;
    }
    if (int64_t(v) > INT64_MAX / factor) return std::nullopt;
    return int64_t(v) * factor;
}
}  // namespace

std::optional<int64_t> KeyFileReader::bytes(const char* group, const char* key, int64_t min, int64_t max) {
    auto text = string(group, key);
    if (!text) return std::nullopt;
    const int64_t k = 1024;
    auto v = scaled(*text, {{'K', k}, {'M', k * k}, {'G', k * k * k}, {'T', k * k * k * k}});
    if (!v || *v < min || *v > max) {
        problem(group, key, "must be a size like 500M or 20G (K, M, G, T), " + std::to_string(min) + ".." +
                                std::to_string(max) + " bytes (got " + quoted(*text) + ")");
        return std::nullopt;
    }
    return v;
}

std::optional<int64_t> KeyFileReader::duration(const char* group, const char* key, int64_t min, int64_t max) {
    auto text = string(group, key);
    if (!text) return std::nullopt;
    auto v = scaled(*text, {{'S', 1}, {'M', 60}, {'H', 3600}, {'D', 86400}});
    if (!v || *v < min || *v > max) {
        problem(group, key, "must be a duration like 90s, 15m, 12h or 30d, " + std::to_string(min) + ".." +
                                std::to_string(max) + " seconds (got " + quoted(*text) + ")");
        return std::nullopt;
    }
    return v;
}

std::optional<bool> KeyFileReader::boolean(const char* group, const char* key) {
    auto text = string(group, key);
    if (!text) return std::nullopt;
    if (*text == "true" || *text == "yes" || *text == "1") return true;
    if (*text == "false" || *text == "no" || *text == "0") return false;
    problem(group, key, "must be true or false (got " + quoted(*text) + ")");
    return std::nullopt;
}

}  // namespace camrelay
