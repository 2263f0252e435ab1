#pragma once
// The service's secret key (32 random bytes) that signs stream tokens, kept as
// <data dir>/auth.key with mode 0600 so tokens survive restarts. Deleting the
// file (and restarting) revokes every token ever issued.
// Thread affinity: any thread (file I/O at start only).
#include <optional>
#include <string>

namespace camrelay {

// Reads the key, or creates it (and the data dir, mode 0700) on first start.
// nullopt with a message naming the file when it cannot.
std::optional<std::string> loadOrCreateAuthKey(const std::string& dataDir, std::string* error);

}  // namespace camrelay
