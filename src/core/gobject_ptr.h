#pragma once
// RAII for GLib / GStreamer / libsoup objects. Two shapes only:
//   GUniquePtr<T>  unique ownership of plain C values (GError, gchar, GKeyFile, ...)
//   GRef<T>        copyable reference holder for ref-counted objects
//                  (GObject, GstObject, GstMiniObject).
// Thread affinity: none (these are value types).
#include <gio/gio.h>
#include <glib.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <memory>
#include <string>
#include <utility>

namespace camrelay {

template <typename T> struct GDeleter;
#define CAMRELAY_DEFINE_DELETER(Type, fn)                          \
    template <> struct GDeleter<Type> {                            \
        void operator()(Type* p) const noexcept { if (p) fn(p); }  \
    };
CAMRELAY_DEFINE_DELETER(GError, g_error_free)
CAMRELAY_DEFINE_DELETER(gchar, g_free)
CAMRELAY_DEFINE_DELETER(gchar*, g_strfreev)
CAMRELAY_DEFINE_DELETER(GKeyFile, g_key_file_unref)
CAMRELAY_DEFINE_DELETER(GBytes, g_bytes_unref)
CAMRELAY_DEFINE_DELETER(GMainLoop, g_main_loop_unref)
CAMRELAY_DEFINE_DELETER(GDir, g_dir_close)
CAMRELAY_DEFINE_DELETER(JsonNode, json_node_unref)
CAMRELAY_DEFINE_DELETER(GstStructure, gst_structure_free)
CAMRELAY_DEFINE_DELETER(GHashTable, g_hash_table_unref)
CAMRELAY_DEFINE_DELETER(GUri, g_uri_unref)
#undef CAMRELAY_DEFINE_DELETER

template <typename T> using GUniquePtr = std::unique_ptr<T, GDeleter<T>>;

// How a ref-counted C type is referenced. Default: GObject (GstObject included).
template <typename T> struct RefTraits {
    static void ref(T* p) { g_object_ref(p); }
    static void unref(T* p) { g_object_unref(p); }
    // Floating references (gst_parse_launch, gst_element_factory_make) are sunk.
    static void sink(T* p) {
        if (g_object_is_floating(p)) g_object_ref_sink(p);
    }
};
#define CAMRELAY_MINIOBJECT_TRAITS(Type)                                            \
    template <> struct RefTraits<Type> {                                            \
        static void ref(Type* p) { gst_mini_object_ref(GST_MINI_OBJECT_CAST(p)); }  \
        static void unref(Type* p) { gst_mini_object_unref(GST_MINI_OBJECT_CAST(p)); } \
        static void sink(Type*) {}                                                  \
    };
CAMRELAY_MINIOBJECT_TRAITS(GstBuffer)
CAMRELAY_MINIOBJECT_TRAITS(GstSample)
CAMRELAY_MINIOBJECT_TRAITS(GstCaps)
CAMRELAY_MINIOBJECT_TRAITS(GstMessage)
// Kept defined: other mini-object types (GstRTSPToken, ...) get theirs where their header is included.
template <> struct RefTraits<GSource> {
    static void ref(GSource* p) { g_source_ref(p); }
    static void unref(GSource* p) { g_source_unref(p); }
    static void sink(GSource*) {}
};
template <> struct RefTraits<GMainContext> {
    static void ref(GMainContext* p) { g_main_context_ref(p); }
    static void unref(GMainContext* p) { g_main_context_unref(p); }
    static void sink(GMainContext*) {}
};

template <typename T> class GRef {
public:
    GRef() = default;
    // Takes over a reference the caller owns (sinking a floating one).
    static GRef adopt(T* p) {
        GRef r;
        if (p) RefTraits<T>::sink(p);
        r.p_ = p;
        return r;
    }
    // Adds a reference of its own.
    static GRef ref(T* p) {
        GRef r;
        if (p) RefTraits<T>::ref(p);
        r.p_ = p;
        return r;
    }
    GRef(const GRef& o) : p_(o.p_) { if (p_) RefTraits<T>::ref(p_); }
    GRef(GRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    GRef& operator=(GRef o) noexcept { std::swap(p_, o.p_); return *this; }
    ~GRef() { if (p_) RefTraits<T>::unref(p_); }

    T* get() const { return p_; }
    T* operator->() const { return p_; }
    explicit operator bool() const { return p_ != nullptr; }
    T* release() { return std::exchange(p_, nullptr); }
    void reset() { GRef().swap(*this); }
    void swap(GRef& o) noexcept { std::swap(p_, o.p_); }

private:
    T* p_ = nullptr;
};

// Calls fn() when it goes out of scope (disconnects, removes sources).
template <typename F> class ScopeExit {
public:
    explicit ScopeExit(F f) : f_(std::move(f)) {}
    ~ScopeExit() { f_(); }
    ScopeExit(const ScopeExit&) = delete;
    ScopeExit& operator=(const ScopeExit&) = delete;
private:
    F f_;
};

// A GSource attached to a context; destroyed with the owner.
class SourceHandle {
public:
    SourceHandle() = default;
    explicit SourceHandle(guint id) : id_(id) {}
    SourceHandle(SourceHandle&& o) noexcept : id_(std::exchange(o.id_, 0)) {}
    SourceHandle& operator=(SourceHandle&& o) noexcept {
        if (this != &o) { reset(); id_ = std::exchange(o.id_, 0); }
        return *this;
    }
    ~SourceHandle() { reset(); }
    void reset() { if (id_) g_source_remove(std::exchange(id_, 0)); }
    // For sources that returned G_SOURCE_REMOVE themselves.
    void forget() { id_ = 0; }
    explicit operator bool() const { return id_ != 0; }
private:
    guint id_ = 0;
};

inline std::string errorMessage(const GUniquePtr<GError>& e) {
    return e ? e->message : "unknown error";
}

}  // namespace camrelay
