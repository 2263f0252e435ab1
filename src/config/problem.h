#pragma once
// A config problem names where it is (file, group, key) and what is wrong.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay {

struct ConfigProblem {
    std::string file;     // path or label of the file ("pipelines/demo.conf")
    std::string key;      // "camera.quality", empty for whole-file problems
    std::string message;  // human sentence, GLib's/GStreamer's own text where there is one

    // "pipelines/demo.conf: camera.quality: must be 1..100 (got 300)"
    std::string toString() const;
};

using ConfigProblems = std::vector<ConfigProblem>;

// All problems joined with "; " (for one-line API errors).
std::string joinProblems(const ConfigProblems& problems);

// Bounds on what one file can make us report (issue 9: a file with 100,000
// unknown keys printed 9 MB of problems and put all of it into the API).
// The first kMaxProblemsPerFile problems are listed; the rest are counted in
// one last problem ("… and 99980 more problems (not listed)").
constexpr size_t kMaxProblemsPerFile = 20;
// Text quoted from a file in a message (a value, a key name, a line GLib
// complains about) is cut to this many bytes, with "…" after it.
constexpr size_t kMaxQuotedBytes = 80;
// A whole message is cut to this many bytes.
constexpr size_t kMaxMessageBytes = 400;

// text cut to at most maxBytes (at a UTF-8 character boundary) with "…" added
// when something was cut.
std::string clipText(std::string_view text, size_t maxBytes);

}  // namespace camrelay
