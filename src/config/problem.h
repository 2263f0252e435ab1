#pragma once
// A config problem names where it is (file, group, key) and what is wrong.
#include <string>
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

}  // namespace camrelay
