#include "redact.h"

#include <regex>

namespace camrelay {

std::string redactCredentials(const std::string& text) {
    // scheme://userinfo@ : userinfo ends at the first '@' before any '/', space or quote.
    static const std::regex url(R"(([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s"']+@)");
    // property=value, value quoted or not.
    static const std::regex property(R"(\b((?:user|proxy)-(?:id|pw)\s*=\s*)("[^"]*"|'[^']*'|[^\s!]+))");
    std::string out = std::regex_replace(text, url, "$1***@");
    return std::regex_replace(out, property, "$1***");
}

}  // namespace camrelay
