#pragma once
// Typed, validating reads from one GKeyFile. Every failed read adds a
// ConfigProblem naming the file and "group.key"; reads never throw.
// Problems are bounded (problem.h): at most kMaxProblemsPerFile are listed,
// then one more counts the rest; quoted text and messages are redacted
// (core/redact.h), then clipped. Syntax errors name the line by its number and
// never quote it (GLib's own messages do, and the file may be any file a
// symlink points to).
// Thread affinity: any thread (one reader per thread).
#include "core/gobject_ptr.h"
#include "problem.h"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace camrelay {

class KeyFileReader {
public:
    // Parses text; a syntax error becomes a problem and every read returns nothing.
    KeyFileReader(std::string fileLabel, const std::string& text, ConfigProblems& problems);

    bool ok() const { return parsed_; }
    // Reports groups and keys outside the allowed set (typos are the usual cause).
    // A group name ending in '*' allows every group with that prefix.
    void rejectUnknown(std::initializer_list<const char*> groups,
                       const char* group, std::initializer_list<const char*> keys);
    bool hasGroup(const char* group) const;
    bool has(const char* group, const char* key) const;
    std::vector<std::string> groupNames() const;

    std::optional<std::string> string(const char* group, const char* key);
    std::optional<int> integer(const char* group, const char* key, int min, int max);
    std::optional<bool> boolean(const char* group, const char* key);
    // "500M", "20G", "1048576": bytes (K, M, G, T are powers of 1024), min..max.
    std::optional<int64_t> bytes(const char* group, const char* key, int64_t min, int64_t max);
    // "90", "90s", "15m", "12h", "30d": seconds, min..max.
    std::optional<int64_t> duration(const char* group, const char* key, int64_t min, int64_t max);

    void problem(const char* group, const char* key, std::string message);

private:
    void add(std::string key, std::string message);

    std::string file_;
    ConfigProblems& problems_;
    GUniquePtr<GKeyFile> keyFile_;
    bool parsed_ = false;
    size_t unlisted_ = 0;       // problems past the cap, counted in problems_[summaryAt_]
    size_t summaryAt_ = 0;
};

}  // namespace camrelay
