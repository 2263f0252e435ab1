#pragma once
// Who is asking: turns what a request carries (Authorization header, session
// cookie, ?token=) into an Identity, and owns the browser sessions. One
// instance serves HTTP (loop thread) and RTSP (gst-rtsp-server's client
// thread): its state is guarded by a mutex, and password hashing runs outside it.
// Thread affinity: any thread.
#include "auth/login_limiter.h"
#include "auth/password_hash.h"
#include "auth/stream_token.h"
#include "config/service_config.h"

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace camrelay {

struct Identity {
    enum class Kind { Everyone, User, Token };  // Everyone: auth is off
    Kind kind = Kind::Everyone;
    std::string user;         // User
    Role role = Role::Admin;  // User and Everyone
    std::string camera;       // Token: the one camera it may watch
    const char* via = "";     // "session", "basic", "bearer", "token", "" (auth off)
    bool isAdmin() const { return kind != Kind::Token && role == Role::Admin; }
};

struct Credentials {
    std::string authorization;  // the Authorization header
    std::string sessionCookie;  // the camrelay_session cookie
    std::string queryToken;     // ?token=
    std::string peer;           // client IP address (rate limiting, logs)
};

enum class AuthOutcome { Ok, Missing, Refused, RateLimited };

struct AuthResult {
    AuthOutcome outcome = AuthOutcome::Missing;
    std::optional<Identity> identity;  // set when Ok
    std::string reason;                // why not, for the client and the log (never a secret)
    int retryAfterSec = 0;             // RateLimited
};

class Authenticator {
public:
    // key: the token-signing key (auth_key.h); unused when auth is off.
    Authenticator(const AuthConfig& config, bool enabled, std::string key);

    bool enabled() const { return enabled_; }
    bool hasUsers() const { return !users_.empty(); }
    const AuthConfig& config() const { return config_; }

    // The best identity any presented credential gives. A present but wrong
    // credential is Refused only when no other one is valid (a stale cookie
    // beside a good token still gets in).
    AuthResult authenticate(const Credentials& credentials);
    // User name and password (the login form, Basic, RTSP).
    AuthResult checkPassword(const std::string& user, const std::string& password, const std::string& peer);
    // A new browser session for an identity checkPassword accepted; returns the cookie value.
    std::string startSession(const Identity& identity);
    void endSession(const std::string& sessionId);
    // A read-only token for one camera; ttlSec already bounded by the caller.
    std::string issueToken(const std::string& camera, int ttlSec, int64_t* expiresUnix) const;

    size_t sessionCount();

private:
    struct Account {
        std::string name;
        Role role;
        std::optional<PasswordHash> hash;
    };
    struct Session {
        std::string user;
        Role role;
        int64_t expiresUs;
    };
    const Account* findUser(const std::string& name) const;
    AuthResult fromAuthorization(const std::string& header, const std::string& peer);
    AuthResult fromSession(const std::string& sessionId, const char* via);
    AuthResult fromToken(const std::string& token);
    std::string sessionKey(const std::string& sessionId) const;

    static constexpr size_t kMaxSessions = 10000;
    static constexpr size_t kMaxCachedPasswords = 1024;
    static constexpr int64_t kPasswordCacheUs = 300'000'000;  // a verified password skips PBKDF2 for 5 min

    const AuthConfig config_;
    const bool enabled_;
    const std::string key_;
    const TokenSigner tokens_;
    std::vector<Account> users_;

    std::mutex mutex_;  // guards everything below
    std::unordered_map<std::string, Session> sessions_;      // by HMAC of the session id
    std::unordered_map<std::string, int64_t> verified_;      // HMAC of user+password -> valid until
    LoginLimiter limiter_;
    // Password hashes (cache misses) for everyone: a token bucket of
    // [auth] password-checks-per-second, with a burst of four seconds' worth.
    double hashBudget_ = 0;
    int64_t hashBudgetAtUs_ = 0;
};

// A user name or other client text safe for a log line: printable ASCII, clipped.
std::string printableName(const std::string& text);

}  // namespace camrelay
