#pragma once
#include <optional>
#include <string>

namespace camrelay {
// Whole file as bytes; on failure nullopt and GLib's message in *error.
std::optional<std::string> readFile(const std::string& path, std::string* error);
}  // namespace camrelay
