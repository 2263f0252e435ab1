#include "crypto.h"

#include <glib.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/pbkdf2.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace camrelay {

std::string randomBytes(size_t count) {
    std::string out(count, '\0');
    size_t filled = 0;
    while (filled < count) {
        ssize_t n = getrandom(out.data() + filled, count - filled, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            std::fprintf(stderr, "camrelay: getrandom failed: no secure random numbers\n");
            std::abort();
        }
        filled += size_t(n);
    }
    return out;
}

std::string hmacSha256(std::string_view key, std::string_view message) {
    hmac_sha256_ctx ctx;
    hmac_sha256_set_key(&ctx, key.size(), reinterpret_cast<const uint8_t*>(key.data()));
    hmac_sha256_update(&ctx, message.size(), reinterpret_cast<const uint8_t*>(message.data()));
    std::string digest(SHA256_DIGEST_SIZE, '\0');
    hmac_sha256_digest(&ctx, digest.size(), reinterpret_cast<uint8_t*>(digest.data()));
    return digest;
}

std::string pbkdf2Sha256(std::string_view password, std::string_view salt, unsigned iterations, size_t length) {
    std::string out(length, '\0');
    pbkdf2_hmac_sha256(password.size(), reinterpret_cast<const uint8_t*>(password.data()), iterations, salt.size(),
                       reinterpret_cast<const uint8_t*>(salt.data()), length, reinterpret_cast<uint8_t*>(out.data()));
    return out;
}

bool constantTimeEqual(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return a.empty() || memeql_sec(a.data(), b.data(), a.size());
}

std::string base64(std::string_view bytes) {
    gchar* text = g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size());
    std::string out(text);
    g_free(text);
    return out;
}

std::string base64Url(std::string_view bytes) {
    std::string out = base64(bytes);
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return out;
}

bool fromBase64(std::string_view text, std::string* bytes) {
    // g_base64_decode skips invalid characters: check the alphabet first.
    if (text.empty() || text.size() % 4 != 0 || text.size() > 4096) return false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool pad = c == '=' && i >= text.size() - 2;
        if (!g_ascii_isalnum(c) && c != '+' && c != '/' && !pad) return false;
        if (!pad && i > 0 && text[i - 1] == '=') return false;
    }
    std::string copy(text);
    gsize length = 0;
    guchar* raw = g_base64_decode(copy.c_str(), &length);
    bytes->assign(reinterpret_cast<const char*>(raw), length);
    g_free(raw);
    return true;
}

}  // namespace camrelay
