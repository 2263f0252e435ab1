#pragma once
// Editing camera files (pipelines/<id>.conf) for the camera API: the file is
// the single source of truth, so every change is a new file text made from
// the old one, checked with the loader (parseCameraConfig) and written
// atomically, with the previous version kept as a backup. No HTTP here.
//
// The pipeline check (planGraph, GStreamer) is not here: config sits below
// camera in the library chain; http/camera_edit_routes runs it on the text
// this module builds, before anything is written.
// Thread affinity: any thread (one CameraFileStore per thread; the service
// uses one, on the loop thread).
#include "config/camera_config.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace camrelay {

inline constexpr const char* kCameraGroup = "camera";
inline constexpr const char* kRecordGroup = "record";
// The redaction marker (core/redact.h) as it stands in a redacted source.
inline constexpr const char* kRedactionMarker = "***";

// A strong ETag of a camera file's bytes: '"' + first 16 hex digits of SHA-256 + '"'.
std::string cameraFileEtag(const std::string& bytes);
// If-Match header value (a list, "*", weak tags never match) against the current tag.
bool ifMatchAccepts(const std::string& ifMatch, const std::string& currentEtag);

// One key as the API sets it: group kCameraGroup or kRecordGroup, the value
// as the loader's text; nullopt removes the key.
struct CameraKeyValue {
    std::string group;
    std::string key;
    std::optional<std::string> value;
};

enum class CameraEditMode {
    Replace,  // PUT/POST: the file holds exactly the given keys afterwards
    Merge,    // PATCH: only the given keys change
};

// Key and group names the API may write: [A-Za-z0-9-], 1..64 characters.
// Anything else is refused before GKeyFile sees it (GLib would warn and ignore).
bool isWritableKeyName(const std::string& key);

// The new file text: oldText (empty for a new camera) loaded with its comments
// (G_KEY_FILE_KEEP_COMMENTS), each changed key set with g_key_file_set_string
// (which escapes newlines: a value can never add a key or a group), keys whose
// value is unchanged not touched at all (their comments and spelling stay),
// removed keys removed with the comment above them, empty groups dropped
// (except [camera]). nullopt and *error when oldText does not load or a name
// is not writable.
std::optional<std::string> editCameraFileText(const std::string& oldText, const std::vector<CameraKeyValue>& values,
                                              CameraEditMode mode, std::string* error);

// Every key of a file text as strings (group kCameraGroup keys by name,
// kRecordGroup keys under "record"), for the editable view. Empty on syntax errors.
struct CameraFileKeys {
    std::vector<std::pair<std::string, std::string>> camera;
    std::vector<std::pair<std::string, std::string>> record;
};
CameraFileKeys cameraFileKeys(const std::string& text);

// Presets: size, frame rate and JPEG quality bundles (docs/configuration.md "Presets").
struct CameraPreset {
    const char* name;
    int width;
    int height;
    int framerate;
    int quality;
};
// nullptr when the name is not low, medium or high.
const CameraPreset* findCameraPreset(const std::string& name);
// "low, medium, high" for messages.
std::string cameraPresetNames();

// A source (or encoder) sent back with the redaction marker where the stored
// one had credentials: each "***" gets the stored credential of the same URL
// (scheme and host) or of the same credential property / header name, in
// order. nullopt and *why when a marker has no stored credential to stand for.
// Text without the marker is returned as it is.
std::optional<std::string> restoreCredentials(const std::string& stored, const std::string& edited, std::string* why);

// Writes bytes to path atomically: a temporary file in the same directory
// ('.' + name + ".tmp-XXXXXX", never ending in .conf), write, fsync, rename
// over path, fsync the directory. On failure the old file is untouched and no
// temporary file is left. beforeRename (tests) runs between the fsync and the
// rename with the temporary path; returning false fails the write there.
using BeforeRenameHook = std::function<bool(const std::string& tempPath)>;
bool writeFileAtomically(const std::string& path, const std::string& bytes, std::string* error,
                         const BeforeRenameHook& beforeRename = {});

// The camera files of one pipelines directory, with backups in
// <dir>/.backup/<id>.conf.<YYYYMMDDTHHMMSSZ> (newest kMaxBackupsPerCamera kept).
class CameraFileStore {
public:
    static constexpr size_t kMaxBackupsPerCamera = 10;

    explicit CameraFileStore(std::string dir) : dir_(std::move(dir)) {}
    const std::string& dir() const { return dir_; }
    std::string pathOf(const std::string& id) const;
    std::string backupDir() const;
    // The file's bytes; nullopt when it does not exist (*error empty) or cannot be read (*error says why).
    std::optional<std::string> read(const std::string& id, std::string* error) const;
    // Backs up the current file (if any), then replaces it atomically.
    bool write(const std::string& id, const std::string& text, std::string* error);
    // Moves the file into the backup directory. False and *error if it cannot.
    bool remove(const std::string& id, std::string* error);
    // This camera's backups, oldest first (full paths).
    std::vector<std::string> backups(const std::string& id) const;

    void setBeforeRenameHook(BeforeRenameHook hook) { beforeRename_ = std::move(hook); }

private:
    // A fresh backup path for id (a -NNN suffix when one of this second exists).
    std::optional<std::string> newBackupPath(const std::string& id, std::string* error) const;
    void pruneBackups(const std::string& id) const;
    // Temporary files of this camera left by a crash between write and rename:
    // writes are one at a time (loop thread), so any that exists is stale.
    void removeStaleTemporaries(const std::string& id) const;

    std::string dir_;
    BeforeRenameHook beforeRename_;
};

}  // namespace camrelay
