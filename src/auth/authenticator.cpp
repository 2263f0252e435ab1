#include "authenticator.h"

#include "auth/crypto.h"
#include "core/clock.h"
#include "core/log.h"

#include <glib.h>

#include <algorithm>
#include <cstring>

namespace camrelay {

namespace {
int64_t unixNow() { return g_get_real_time() / 1'000'000; }

AuthResult refused(std::string reason) { return {AuthOutcome::Refused, std::nullopt, std::move(reason), 0}; }
AuthResult accepted(Identity identity) { return {AuthOutcome::Ok, std::move(identity), "", 0}; }

bool startsWithWord(const std::string& text, const char* word, std::string* rest) {
    const size_t n = std::strlen(word);
    if (text.size() <= n || g_ascii_strncasecmp(text.c_str(), word, n) != 0 || text[n] != ' ') return false;
    size_t at = n;
    while (at < text.size() && text[at] == ' ') ++at;
    *rest = text.substr(at);
    return true;
}
}  // namespace

std::string printableName(const std::string& text) {
    std::string out;
    for (char c : text.substr(0, 64)) out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
    return text.size() > 64 ? out + "..." : out;
}

Authenticator::Authenticator(const AuthConfig& config, bool enabled, std::string key)
    : config_(config), enabled_(enabled), key_(std::move(key)), tokens_(key_), limiter_(config.loginFailuresPerMinute) {
    for (const UserAccount& u : config.users) {
        std::string why;
        users_.push_back({u.name, u.role, parsePasswordHash(u.passwordHash, &why)});  // checked by the config loader
    }
}

const Authenticator::Account* Authenticator::findUser(const std::string& name) const {
    for (const Account& a : users_)
        if (a.name == name) return &a;
    return nullptr;
}

std::string Authenticator::sessionKey(const std::string& sessionId) const {
    // Looked up by a keyed hash, so map lookups reveal nothing about stored ids.
    return hmacSha256(key_, "session\n" + sessionId);
}

AuthResult Authenticator::checkPassword(const std::string& user, const std::string& password, const std::string& peer) {
    const int64_t now = monotonicNowUs();
    const std::string cacheKey = hmacSha256(key_, "password\n" + user + '\0' + password);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        // The limit first: otherwise a cached right guess would answer while wrong ones are refused.
        if (int wait = limiter_.retryAfterSec(peer, now))
            return {AuthOutcome::RateLimited, std::nullopt, "too many failed logins from this address", wait};
        auto hit = verified_.find(cacheKey);
        if (hit != verified_.end() && hit->second > now) {
            const Account* account = findUser(user);
            if (account) return accepted({Identity::Kind::User, user, account->role, "", "password"});
        }
        // Hashing runs on the caller's thread (the HTTP loop): bound it for all
        // clients together, so guesses from many addresses cannot starve the viewers.
        const double rate = config_.passwordChecksPerSecond;
        hashBudget_ = hashBudgetAtUs_ == 0 ? 4 * rate
                                           : std::min(4 * rate, hashBudget_ + double(now - hashBudgetAtUs_) * rate / 1e6);
        hashBudgetAtUs_ = now;
        if (hashBudget_ < 1)
            return {AuthOutcome::RateLimited, std::nullopt, "too many password checks right now", 1};
        hashBudget_ -= 1;
    }
    const Account* account = findUser(user);
    // An unknown user costs the same hashing as a wrong password: no user enumeration by timing.
    static const PasswordHash decoy = [] {
        std::string why;
        return *parsePasswordHash(hashPassword("decoy"), &why);
    }();
    const PasswordHash& stored = account && account->hash ? *account->hash : decoy;
    const bool ok = verifyPassword(password, stored) && account && account->hash;
    std::lock_guard<std::mutex> lock(mutex_);
    if (!ok) {
        limiter_.failed(peer, now);
        logWarning("", "login failed for user \"" + printableName(user) + "\" from " + peer +
                           (account ? " (wrong password)" : " (no such user)"));
        return refused("wrong user name or password");
    }
    if (verified_.size() >= kMaxCachedPasswords) verified_.clear();
    verified_[cacheKey] = now + kPasswordCacheUs;
    return accepted({Identity::Kind::User, user, account->role, "", "password"});
}

AuthResult Authenticator::fromAuthorization(const std::string& header, const std::string& peer) {
    std::string rest;
    if (startsWithWord(header, "Basic", &rest)) {
        std::string decoded;
        const size_t colon = fromBase64(rest, &decoded) ? decoded.find(':') : std::string::npos;
        if (colon == std::string::npos) return refused("malformed Basic credentials");
        AuthResult r = checkPassword(decoded.substr(0, colon), decoded.substr(colon + 1), peer);
        if (r.identity) r.identity->via = "basic";
        return r;
    }
    if (startsWithWord(header, "Bearer", &rest)) {
        AuthResult r = rest.rfind("cr1.", 0) == 0 ? fromToken(rest) : fromSession(rest, "bearer");
        if (r.identity && r.identity->kind == Identity::Kind::Token) r.identity->via = "bearer";
        return r;
    }
    return refused("unsupported Authorization scheme (use Basic or Bearer)");
}

AuthResult Authenticator::fromSession(const std::string& sessionId, const char* via) {
    if (sessionId.empty() || sessionId.size() > 128) return refused("not a session");
    const int64_t now = monotonicNowUs();
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sessions_.find(sessionKey(sessionId));
    if (it == sessions_.end()) return refused("session expired or logged out");
    if (it->second.expiresUs <= now) {
        sessions_.erase(it);
        return refused("session expired or logged out");
    }
    // A user removed from the config (and the service restarted) has no sessions anyway: they live in memory.
    return accepted({Identity::Kind::User, it->second.user, it->second.role, "", via});
}

AuthResult Authenticator::fromToken(const std::string& token) {
    TokenCheck check;
    auto grant = tokens_.verify(token, unixNow(), &check);
    if (!grant) {
        return refused(check == TokenCheck::Expired ? "the stream token has expired"
                                                     : "not a valid stream token");
    }
    return accepted({Identity::Kind::Token, "", Role::Viewer, grant->camera, "token"});
}

AuthResult Authenticator::authenticate(const Credentials& c) {
    if (!enabled_) return accepted({Identity::Kind::Everyone, "", Role::Admin, "", ""});
    std::optional<AuthResult> failure;
    std::optional<Identity> best;
    auto consider = [&](AuthResult r) {
        if (r.outcome == AuthOutcome::Ok) {
            // A user beats a token (it can do more).
            if (!best || (best->kind == Identity::Kind::Token && r.identity->kind == Identity::Kind::User)) best = r.identity;
        } else if (!failure || r.outcome == AuthOutcome::RateLimited) {
            failure = std::move(r);
        }
    };
    if (!c.authorization.empty()) consider(fromAuthorization(c.authorization, c.peer));
    if (!c.sessionCookie.empty()) consider(fromSession(c.sessionCookie, "session"));
    if (!c.queryToken.empty()) consider(fromToken(c.queryToken));
    if (best) return accepted(*best);
    if (failure) return *failure;
    return {AuthOutcome::Missing, std::nullopt, "credentials required", 0};
}

std::string Authenticator::startSession(const Identity& identity) {
    const std::string id = base64Url(randomBytes(32));
    const int64_t now = monotonicNowUs();
    std::lock_guard<std::mutex> lock(mutex_);
    if (sessions_.size() >= kMaxSessions) {
        for (auto it = sessions_.begin(); it != sessions_.end();)
            it = it->second.expiresUs <= now ? sessions_.erase(it) : std::next(it);
        // Still full: the session closest to expiry goes.
        if (sessions_.size() >= kMaxSessions) {
            auto oldest = sessions_.begin();
            for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
                if (it->second.expiresUs < oldest->second.expiresUs) oldest = it;
            sessions_.erase(oldest);
        }
    }
    sessions_[sessionKey(id)] = {identity.user, identity.role, now + int64_t(config_.sessionTtlSec) * 1'000'000};
    return id;
}

void Authenticator::endSession(const std::string& sessionId) {
    std::lock_guard<std::mutex> lock(mutex_);
    sessions_.erase(sessionKey(sessionId));
}

size_t Authenticator::sessionCount() {
    std::lock_guard<std::mutex> lock(mutex_);
    return sessions_.size();
}

std::string Authenticator::issueToken(const std::string& camera, int ttlSec, int64_t* expiresUnix) const {
    *expiresUnix = unixNow() + ttlSec;
    return tokens_.issue(camera, *expiresUnix);
}

}  // namespace camrelay
