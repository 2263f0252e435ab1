#include "problem.h"

namespace camrelay {

std::string ConfigProblem::toString() const {
    std::string s = file;
    if (!key.empty()) s += ": " + key;
    return s + ": " + message;
}

std::string joinProblems(const ConfigProblems& problems) {
    std::string out;
    for (const auto& p : problems) {
        if (!out.empty()) out += "; ";
        out += p.toString();
    }
    return out;
}

}  // namespace camrelay
