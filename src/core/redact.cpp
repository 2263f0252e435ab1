#include "redact.h"

#include <glib.h>

#include <algorithm>
#include <array>

namespace camrelay {

namespace {

constexpr std::string_view kMask = "***";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";     // what clipText() appends
constexpr size_t npos = std::string_view::npos;

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool isQuote(char c) { return c == '"' || c == '\''; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isSchemeChar(char c) { return isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.'; }
bool isNameChar(char c) { return isAlpha(c) || isDigit(c) || c == '-' || c == '_'; }

// Invalid sequences and NUL bytes become U+FFFD, one per bad byte.
std::string validUtf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        const gchar* end = nullptr;
        if (g_utf8_validate(text.data(), gssize(text.size()), &end)) {
            out.append(text);
            break;
        }
        const size_t good = size_t(end - text.data());
        out.append(text.substr(0, good));
        out.append(kReplacement);
        text.remove_prefix(good + 1);
    }
    return out;
}

// Answers "first position >= start where pred holds" for starts that never
// decrease, each byte examined once over all calls (a start at or before the
// last answer gets that answer again). Keeps the URL pass linear.
template <typename Pred>
class ForwardSearch {
public:
    ForwardSearch(std::string_view text, Pred pred) : text_(text), pred_(pred) {}
    size_t from(size_t start) {
        if (searched_ && start <= found_) return found_;
        size_t i = start;
        while (i < text_.size() && !pred_(text_, i)) ++i;
        searched_ = true;
        found_ = i;
        return i;
    }

private:
    std::string_view text_;
    Pred pred_;
    bool searched_ = false;
    size_t found_ = 0;
};

// A quote at i that an odd run of backslashes before it does not escape.
bool unescapedQuote(std::string_view s, size_t i, char quote) {
    if (s[i] != quote) return false;
    size_t slashes = 0;
    while (slashes < i && s[i - 1 - slashes] == '\\') ++slashes;
    return slashes % 2 == 0;
}

// First position >= from holding `quote` not escaped by a backslash, or text.size().
size_t closingQuote(std::string_view t, size_t from, char quote) {
    for (size_t i = from; i < t.size(); ++i) {
        if (t[i] == '\\') ++i;
        else if (t[i] == quote) return i;
    }
    return t.size();
}

// scheme://userinfo@host: everything between "://" and the last '@' of the URL becomes ***.
std::string redactUrls(std::string_view t) {
    auto atSign = [](std::string_view s, size_t i) { return s[i] == '@'; };
    auto delimiter = [](std::string_view s, size_t i) { return isSpace(s[i]) || isQuote(s[i]); };
    // Every search starts right after "://", where no backslash run is pending,
    // so counting the backslashes before a quote agrees with a forward scan.
    auto doubleQuote = [](std::string_view s, size_t i) { return unescapedQuote(s, i, '"'); };
    auto singleQuote = [](std::string_view s, size_t i) { return unescapedQuote(s, i, '\''); };
    ForwardSearch<decltype(atSign)> nextAt(t, atSign);
    ForwardSearch<decltype(delimiter)> nextDelimiter(t, delimiter);
    ForwardSearch<decltype(doubleQuote)> nextDoubleQuote(t, doubleQuote);
    ForwardSearch<decltype(singleQuote)> nextSingleQuote(t, singleQuote);
    std::string out;
    out.reserve(t.size());
    size_t copied = 0;  // t[copied..] is not in out yet
    size_t pos = 0;
    size_t i;
    while ((i = t.find("://", pos)) != npos) {
        const size_t start = i + 3;
        size_t scheme = i;  // schemes are short: a longer run is not looked at further
        while (scheme > 0 && i - scheme < 32 && isSchemeChar(t[scheme - 1])) --scheme;
        const char quote = scheme > 0 && isQuote(t[scheme - 1]) ? t[scheme - 1] : '\0';
        // A quoted URL may hold spaces (location="rtsp://a:b c@h/x"); an unquoted one ends at one.
        const size_t end = quote == '"'    ? nextDoubleQuote.from(start)
                           : quote == '\'' ? nextSingleQuote.from(start)
                                           : nextDelimiter.from(start);
        // The last '@' before the end: scanned backwards only when one exists,
        // and the spans scanned never overlap (the next URL starts after it).
        size_t at = npos;
        if (nextAt.from(start) < end) {
            at = end - 1;
            while (t[at] != '@') --at;
        }
        if (at != npos) {
            out.append(t.substr(copied, start - copied)).append(kMask);
            copied = at;
            pos = at + 1;
            continue;
        }
        // Cut short by clipping ("rtsp://admin:pa…"): the userinfo may be all there is.
        if (end - start > kEllipsis.size() && t.substr(end - kEllipsis.size(), kEllipsis.size()) == kEllipsis) {
            out.append(t.substr(copied, start - copied)).append(kMask);
            copied = end - kEllipsis.size();
            pos = end;
            continue;
        }
        // No '@' up to the end: no URL starting before it has userinfo either,
        // unless it is quoted and may run further.
        pos = quote ? start : end;
    }
    out.append(t.substr(copied));
    return out;
}

enum class NameKind { None, Secret, QuerySecret, Header };

// Lowercase, '_' as '-': "Access_Token" -> "access-token".
std::string normalName(std::string_view name) {
    std::string n(name);
    for (char& c : n) c = c == '_' ? '-' : char(g_ascii_tolower(c));
    return n;
}

bool endsWith(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && std::string_view(s).substr(s.size() - suffix.size()) == suffix;
}

NameKind classify(std::string_view rawName) {
    if (rawName.size() > 40) return NameKind::None;
    const std::string name = normalName(rawName);
    static constexpr std::array<std::string_view, 6> headers = {
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"};
    static constexpr std::array<std::string_view, 21> secrets = {
        "user-id", "user-pw", "proxy-id", "proxy-pw", "user", "username", "login", "password", "passwd", "pwd", "pw",
        "passphrase", "secret", "token", "key", "apikey", "api-key", "access-token", "auth-token", "client-secret",
        "credentials"};
    // Never with "pass" (x264enc pass=qual) or "auth" as element properties: only in query strings.
    static constexpr std::array<std::string_view, 5> querySecrets = {"pass", "auth", "sig", "signature", "code"};
    static constexpr std::array<std::string_view, 13> suffixes = {
        "-pw", "-pwd", "-password", "-passwd", "-passphrase", "-secret", "-token", "-key",
        "password", "passwd", "passphrase", "secret", "token"};
    auto in = [&](const auto& list) { return std::find(list.begin(), list.end(), name) != list.end(); };
    if (in(headers)) return NameKind::Header;
    if (in(secrets)) return NameKind::Secret;
    for (std::string_view s : suffixes)
        if (endsWith(name, s)) return NameKind::Secret;
    if (in(querySecrets)) return NameKind::QuerySecret;
    return NameKind::None;
}

// name=value / name: value: the values of credential names become ***.
std::string redactValues(std::string_view t) {
    std::string out;
    out.reserve(t.size());
    size_t copied = 0;
    size_t i = 0;
    const size_t n = t.size();
    while (i < n) {
        if (!isNameChar(t[i]) || (i > 0 && isNameChar(t[i - 1]))) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < n && isNameChar(t[j])) ++j;
        size_t k = j;
        while (k < n && (t[k] == ' ' || t[k] == '\t')) ++k;
        if (k >= n || (t[k] != '=' && t[k] != ':')) {
            i = j;
            continue;
        }
        const NameKind kind = classify(t.substr(i, j - i));
        const bool query = i > 0 && (t[i - 1] == '?' || t[i - 1] == '&' || t[i - 1] == ';');
        const bool wanted = kind == NameKind::Header || (t[k] == '=' && (kind == NameKind::Secret ||
                                                                          (kind == NameKind::QuerySecret && query)));
        if (!wanted) {
            i = j;
            continue;
        }
        size_t v = k + 1;
        while (v < n && (t[v] == ' ' || t[v] == '\t')) ++v;
        // A GstStructure type cast: Authorization=(string)"Basic ...".
        if (v < n && t[v] == '(') {
            size_t c = v + 1;
            while (c < n && c - v < 16 && isNameChar(t[c])) ++c;
            if (c < n && t[c] == ')') {
                v = c + 1;
                while (v < n && (t[v] == ' ' || t[v] == '\t')) ++v;
            }
        }
        // [from, to) becomes ***; a quoted value goes with its quotes.
        size_t from = v, to = v;
        if (v < n && isQuote(t[v])) {
            to = std::min(closingQuote(t, v + 1, t[v]) + 1, n);
        } else if (v + 1 < n && t[v] == '\\' && isQuote(t[v + 1])) {  // \"...\" inside a quoted value
            const char close[] = {'\\', t[v + 1], '\0'};
            const size_t c = t.find(close, v + 2);
            to = c == npos ? n : c + 2;
        } else if (kind == NameKind::Header) {
            // "Basic abc" has a space: the value runs to the end of the quoted text or line.
            while (to < n && !isQuote(t[to]) && !(t[to] == '\\' && to + 1 < n && isQuote(t[to + 1])) &&
                   t[to] != '\r' && t[to] != '\n' &&
                   !(t[k] == '=' && (t[to] == ',' || t[to] == ';')))
                ++to;
        } else if (query) {
            while (to < n && !isSpace(t[to]) && !isQuote(t[to]) && t[to] != '&' && t[to] != '#' && t[to] != ';') ++to;
        } else {
            // gst-launch: an unquoted value is everything up to whitespace, backslash escapes included.
            while (to < n && !isSpace(t[to])) to += t[to] == '\\' && to + 1 < n ? 2 : 1;
        }
        if (to > from) {
            out.append(t.substr(copied, from - copied)).append(kMask);
            copied = to;
        }
        i = std::max(to, j);
    }
    out.append(t.substr(copied));
    return out;
}

}  // namespace

std::string redactCredentials(std::string_view text) {
    const std::string valid = validUtf8(text);
    return redactValues(redactUrls(valid));
}

}  // namespace camrelay
