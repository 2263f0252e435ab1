#include "key_file_reader.h"

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
std::string quoted(const std::string& text) { return "\"" + clipText(text, kMaxQuotedBytes) + "\""; }
// A name ending in '*' stands for every name with that prefix ("user:*").
bool contains(std::initializer_list<const char*> names, const char* name) {
    return std::any_of(names.begin(), names.end(), [&](const char* n) {
        const size_t len = std::strlen(n);
        if (len && n[len - 1] == '*') return std::strncmp(n, name, len - 1) == 0;
        return std::strcmp(n, name) == 0;
    });
}
}  // namespace

KeyFileReader::KeyFileReader(std::string fileLabel, const std::string& text, ConfigProblems& problems)
    : file_(std::move(fileLabel)), problems_(problems), keyFile_(g_key_file_new()) {
    GError* raw = nullptr;
    parsed_ = g_key_file_load_from_data(keyFile_.get(), text.data(), text.size(), G_KEY_FILE_NONE, &raw);
    GUniquePtr<GError> error(raw);
    if (!parsed_) add("", std::string("syntax error: ") + errorMessage(error));
}

void KeyFileReader::problem(const char* group, const char* key, std::string message) {
    add(keyName(group, key), std::move(message));
}

void KeyFileReader::add(std::string key, std::string message) {
    if (problems_.size() < kMaxProblemsPerFile) {
        problems_.push_back({file_, std::move(key), clipText(message, kMaxMessageBytes)});
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
        problem(group, key, "must be " + std::to_string(min) + ".." + std::to_string(max) + " (got " + clipText(*text, kMaxQuotedBytes) + ")");
        return std::nullopt;
    }
    return static_cast<int>(v);
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
