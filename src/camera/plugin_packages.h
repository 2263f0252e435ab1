#pragma once
// Which Debian package ships a GStreamer element, from the Gstreamer-Elements
// field of Debian's package metadata (apt-cache show gstreamer1.0-*). Used to
// turn GStreamer's "no element X" into advice a user can act on, and by the
// dependency-closure test. Read once, on first use (an error path: it runs
// apt-cache twice, ~0.1 s); any thread.
#include <glib.h>

#include <map>
#include <optional>
#include <string>

namespace camrelay {

// element name -> Debian package; empty when apt-cache is missing or has no lists.
const std::map<std::string, std::string>& debianElementPackages();

std::optional<std::string> debianPackageOfElement(const std::string& element);

// "a GStreamer plugin package is missing: Debian's gstreamer1.0-x provides
// clockoverlay (apt-get install gstreamer1.0-x)", or advice for a name no
// package knows (misspelt, or a plugin from outside Debian).
std::string missingElementAdvice(const std::string& element);

// GStreamer's parse error text, with that advice when an element does not exist.
std::string parseErrorMessage(const GError* error);

}  // namespace camrelay
