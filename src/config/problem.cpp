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

std::string clipText(std::string_view text, size_t maxBytes) {
    if (text.size() <= maxBytes) return std::string(text);
    size_t cut = maxBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;  // not inside a character
    return std::string(text.substr(0, cut)) + "\xE2\x80\xA6";
}

}  // namespace camrelay
