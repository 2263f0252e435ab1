#pragma once
// Reads values out of a JSON response with a JSONPath ("$.cameras[0].state").
// Throws std::runtime_error when the text is not JSON or the path matches nothing.
#include <string>

namespace camrelay::testing {
bool isJsonObject(const std::string& text);
std::string jsonString(const std::string& text, const std::string& path);
double jsonNumber(const std::string& text, const std::string& path);
bool jsonBool(const std::string& text, const std::string& path);
bool jsonIsNull(const std::string& text, const std::string& path);
size_t jsonArrayLength(const std::string& text, const std::string& path);
}  // namespace camrelay::testing
