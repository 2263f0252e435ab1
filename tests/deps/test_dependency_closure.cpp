// Every GStreamer element and every program the project uses must come from a
// Debian package in the dependency closure (Depends/Pre-Depends) of what
// tools/deps.sh installs, plus the base system (Essential and Priority:
// required packages). A machine that happens to have a package from an
// earlier install passes the suite but not this test.
//
// Nothing here is a second, hand-typed list:
//  - elements: every word of every C++ string literal (src/, tests/, bench/),
//    of the pipeline files and of the scripts and browser tests that is an
//    element name, either in GStreamer's registry or in Debian's package
//    metadata (Gstreamer-Elements); plus the decoder decodebin would pick for
//    every compressed caps name the code mentions ("video/x-h265");
//  - programs: runCommand("prog ...") in C++, find_program('prog') in meson,
//    absolute /usr/bin paths in the browser tests, and the command words of
//    the shell scripts (bench/, fuzz/, tools/run, tools/test, tools/sanitize, .ci/run);
//  - packages: `tools/deps.sh --list` (every kind: build, test, fuzz).
#include "camera/plugin_packages.h"
#include "child_process.h"

#include <catch2/catch.hpp>
#include <gst/gst.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using camrelay::testing::readTextFile;
using camrelay::testing::runCommand;

namespace {

std::string sourceRoot() {
    const char* root = g_getenv("CAMRELAY_SOURCE_ROOT");
    REQUIRE(root);
    return root;
}

using Uses = std::map<std::string, std::vector<std::string>>;  // name -> where it is used

// Up to three "file:line" places per name, for the messages.
void add(Uses& uses, const std::string& name, const std::string& where) {
    auto& places = uses[name];
    if (places.size() < 3) places.push_back(where);
}

std::string places(const std::vector<std::string>& where) {
    std::string text;
    for (const auto& w : where) text += (text.empty() ? "" : ", ") + w;
    return text;
}

std::vector<fs::path> filesUnder(const std::string& dir, const std::set<std::string>& extensions) {
    std::vector<fs::path> files;
    const fs::path top = fs::path(sourceRoot()) / dir;
    if (!fs::exists(top)) return files;
    for (auto it = fs::recursive_directory_iterator(top); it != fs::recursive_directory_iterator(); ++it) {
        if (it->is_directory() && it->path().filename() == "node_modules") {
            it.disable_recursion_pending();
            continue;
        }
        // This file names elements and programs in its own checks and messages.
        if (it->path().filename() == fs::path(__FILE__).filename()) continue;
        if (it->is_regular_file() && extensions.count(it->path().extension().string())) files.push_back(it->path());
    }
    return files;
}

std::string fromRoot(const fs::path& p) { return fs::relative(p, sourceRoot()).string(); }

int lineOf(const std::string& text, size_t offset) {
    return 1 + int(std::count(text.begin(), text.begin() + std::min(offset, text.size()), '\n'));
}

// String literals of a C++ file with their offsets; comments and character literals skipped.
std::vector<std::pair<std::string, size_t>> cppStringLiterals(const std::string& text) {
    std::vector<std::pair<std::string, size_t>> literals;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text.compare(i, 2, "//") == 0) {
            i = text.find('\n', i);
            if (i == std::string::npos) break;
        } else if (text.compare(i, 2, "/*") == 0) {
            i = text.find("*/", i + 2);
            if (i == std::string::npos) break;
            ++i;
        } else if (text[i] == '\'') {
            for (++i; i < text.size() && text[i] != '\''; ++i)
                if (text[i] == '\\') ++i;
        } else if (text[i] == '"') {
            const size_t start = i;
            std::string literal;
            for (++i; i < text.size() && text[i] != '"'; ++i) {
                if (text[i] == '\\' && i + 1 < text.size()) ++i;
                literal += text[i];
            }
            literals.emplace_back(literal, start);
        }
    }
    return literals;
}

const std::regex& wordPattern() {
    static const std::regex word("[A-Za-z0-9_][A-Za-z0-9_-]*");
    return word;
}

// Every element name GStreamer or Debian knows: installed ones and those of
// Debian packages that are not installed (so a missing one is still seen).
std::set<std::string> knownElementNames() {
    std::set<std::string> names;
    GList* features = gst_registry_get_feature_list(gst_registry_get(), GST_TYPE_ELEMENT_FACTORY);
    for (GList* f = features; f; f = f->next) names.insert(GST_OBJECT_NAME(f->data));
    gst_plugin_feature_list_free(features);
    for (const auto& [element, package] : camrelay::debianElementPackages()) names.insert(element);
    return names;
}

void collectWords(Uses& uses, const std::set<std::string>& known, const std::string& text, size_t offset,
                  const std::string& file, const std::string& whole) {
    for (std::sregex_iterator it(text.begin(), text.end(), wordPattern()), end; it != end; ++it)
        if (known.count(it->str())) add(uses, it->str(), file + ":" + std::to_string(lineOf(whole, offset)));
}

Uses elementsUsed(const std::set<std::string>& known, std::set<std::string>& capsNames) {
    Uses uses;
    static const std::regex capsName(R"((video|image)/x?-?[a-z0-9.-]+)");
    for (const char* dir : {"src", "tests", "bench"})
        for (const auto& path : filesUnder(dir, {".cpp", ".h"})) {
            const std::string text = readTextFile(path.string());
            for (const auto& [literal, offset] : cppStringLiterals(text)) {
                collectWords(uses, known, literal, offset, fromRoot(path), text);
                for (std::sregex_iterator it(literal.begin(), literal.end(), capsName), end; it != end; ++it)
                    capsNames.insert(it->str());
            }
        }
    for (const auto& [dir, extensions] : std::vector<std::pair<std::string, std::set<std::string>>>{
             {"pipelines", {".conf"}}, {"bench", {".sh"}}, {"tests/browser", {".mjs"}}, {"data", {".ini"}}})
        for (const auto& path : filesUnder(dir, extensions)) {
            const std::string text = readTextFile(path.string());
            std::istringstream lines(text);
            size_t offset = 0;
            for (std::string line; std::getline(lines, line); offset += line.size() + 1)
                collectWords(uses, known, line, offset, fromRoot(path), text);
        }
    return uses;
}

// decodebin picks the highest-ranked decoder for compressed video: that one must be installed too.
void addDecoders(Uses& uses, const std::set<std::string>& capsNames) {
    GList* decoders = gst_element_factory_list_get_elements(GST_ELEMENT_FACTORY_TYPE_DECODER, GST_RANK_MARGINAL);
    for (const auto& name : capsNames) {
        if (name == "video/x-raw") continue;
        GstCaps* caps = gst_caps_from_string(name.c_str());
        if (!caps) continue;
        GList* usable = gst_element_factory_list_filter(decoders, caps, GST_PAD_SINK, FALSE);
        usable = g_list_sort(usable, gst_plugin_feature_rank_compare_func);
        if (usable) add(uses, GST_OBJECT_NAME(usable->data), "decodebin's choice for " + name);
        else WARN("no installed decoder for " << name << " (mentioned in the code)");
        gst_plugin_feature_list_free(usable);
        gst_caps_unref(caps);
    }
    gst_plugin_feature_list_free(decoders);
}

// --- programs ---------------------------------------------------------------


// The words in command position of a shell script, found by a small tokenizer
// that knows quoting, $( ), $(( )), backquotes, heredocs and comments: the
// first word of each simple command that is not a keyword, an assignment, a
// builtin or a function the scripts define.
class ShellCommandScanner {
public:
    ShellCommandScanner(Uses& uses, std::string file, std::set<std::string> functions)
        : uses_(uses), file_(std::move(file)), functions_(std::move(functions)) {}

    void scan(const std::string& text) {
        std::vector<char> contexts = {'c'};  // c: unquoted, d: double quotes, s: $( ), b: backquotes
        for (size_t i = 0; i < text.size(); ++i) {
            const char c = text[i];
            if (c == '\n') ++line_;
            if (contexts.back() == 'd') {
                if (c == '\\') ++i;
                else if (c == '"') contexts.pop_back();
                else if (text.compare(i, 3, "$((") == 0) i = text.find("))", i);
                else if (text.compare(i, 2, "$(") == 0) contexts.push_back('s'), ++i, endWord(true);
                if (i == std::string::npos) return;
                continue;
            }
            if (std::isspace(static_cast<unsigned char>(c))) {
                endWord(c == '\n');
                if (c == '\n' && !heredocEnd_.empty()) skipHeredoc(text, i);
            } else if (c == '#' && word_.empty()) {
                i = text.find('\n', i) - 1;
            } else if (c == '\'') {
                i = text.find('\'', i + 1), plain_ = false, word_ += '\'';
            } else if (c == '"') {
                contexts.push_back('d'), plain_ = false, word_ += '"';
            } else if (c == '\\') {
                ++i, plain_ = false;
            } else if (text.compare(i, 3, "$((") == 0) {
                i = text.find("))", i) + 1, plain_ = false, word_ += '$';
            } else if (text.compare(i, 2, "$(") == 0) {
                endWord(true), contexts.push_back('s'), ++i, inArray_ = false;
            } else if (c == '`') {
                endWord(true);
                if (contexts.back() == 'b') contexts.pop_back();
                else contexts.push_back('b');
            } else if (c == '(' && !word_.empty() && word_.back() == '=') {
                // name=( array words ): values, not commands (but a $( ) inside runs one)
                word_.clear(), contexts.push_back('a'), inArray_ = true;
            } else if (c == ')' && contexts.back() == 'a') {
                endWord(false), contexts.pop_back();
                inArray_ = std::count(contexts.begin(), contexts.end(), 'a') > 0 && contexts.back() == 'a';
            } else if (c == ')' && contexts.back() == 's') {
                endWord(false), contexts.pop_back(), inArray_ = contexts.back() == 'a';
            } else if (c == ')' && casePattern_) {
                endWord(false), casePattern_ = false, commandPosition_ = true;  // "pattern)" then a command
            } else if (c == ';' && text.compare(i, 2, ";;") == 0) {
                endWord(false), ++i, casePattern_ = caseDepth_ > 0;  // the next case pattern
            } else if (c == ';' || c == '|' || c == '&' || c == '(' || c == ')') {
                endWord(!casePattern_);
            } else if (c == '<' && text.compare(i, 2, "<<") == 0 && text.compare(i, 3, "<<<") != 0) {
                static const std::regex heredoc(R"(<<-?\s*['"]?([A-Za-z_]+)['"]?)");
                std::smatch m;
                const std::string rest = text.substr(i, 40);
                if (std::regex_search(rest, m, heredoc)) heredocEnd_ = m[1], i += m.length(0) - 1;
                endWord(false);
            } else {
                if (c == '$') plain_ = false;
                word_ += c;
            }
            if (i == std::string::npos || i + 1 == 0) return;
        }
        endWord(true);
    }

private:
    void skipHeredoc(const std::string& text, size_t& i) {
        for (size_t next; (next = text.find('\n', i + 1)) != std::string::npos; i = next) {
            ++line_;
            if (text.substr(i + 1, next - i - 1) == heredocEnd_) break;
        }
        heredocEnd_.clear();
    }

    // Ends the current word; `separator` says whether a command may start after it.
    void endWord(bool separator) {
        static const std::set<std::string> keepsPosition = {"if", "then", "else", "elif", "while", "until", "do",
                                                            "!", "{", "time", "exec", "command", "sudo"};
        static const std::set<std::string> ends = {"fi", "done", "esac", "}", "]]"};
        if (!word_.empty()) {
            if (casePattern_) {
                if (word_ == "esac") casePattern_ = false, --caseDepth_;
            } else if (skipNext_) {
                skipNext_ = false;
            } else if (expectIn_) {
                if (word_ == "in") casePattern_ = true;  // "case x in": patterns follow
                expectIn_ = false;
            } else if (commandPosition_) {
                if (word_ == "case") skipNext_ = true, expectIn_ = true, ++caseDepth_, commandPosition_ = false;
                else if (word_ == "esac") --caseDepth_, commandPosition_ = false;
                else if (word_ == "for" || word_ == "select") skipNext_ = true, commandPosition_ = false;
                else if (keepsPosition.count(word_) || (plain_ && word_.find('=') != std::string::npos)) {}
                else if (ends.count(word_)) commandPosition_ = false;
                else record(), commandPosition_ = false;
            }
        }
        word_.clear();
        plain_ = true;
        if (separator) commandPosition_ = true;
    }

    void record() {
        static const std::regex name("[a-z][a-z0-9_.+-]*");
        if (inArray_ || !plain_ || functions_.count(word_) || !std::regex_match(word_, name)) return;
        const std::string type = shellWordType(word_);
        if (type == "builtin" || type == "keyword") return;
        add(uses_, word_, file_ + ":" + std::to_string(line_));
    }

    static std::string shellWordType(const std::string& word) {
        static std::map<std::string, std::string> cache;
        auto it = cache.find(word);
        if (it != cache.end()) return it->second;
        auto [code, out] = runCommand("bash -c 'type -t " + word + "' 2>/dev/null");
        while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
        return cache[word] = code == 0 ? out : "";
    }

    Uses& uses_;
    const std::string file_;
    const std::set<std::string> functions_;
    std::string word_, heredocEnd_;
    bool plain_ = true, commandPosition_ = true, skipNext_ = false;
    bool inArray_ = false;  // directly inside name=( ... )
    bool expectIn_ = false, casePattern_ = false;  // inside "case ... in", before a pattern's ")"
    int caseDepth_ = 0;
    int line_ = 1;
};

// Functions defined by a script and the scripts beside it (bench/lib.sh).
std::set<std::string> shellFunctions(const fs::path& script) {
    static const std::regex definition(R"((^|\n)\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\)\s*\{)");
    std::set<std::string> functions;
    std::vector<fs::path> files = filesUnder(fromRoot(script.parent_path()), {".sh"});
    files.push_back(script);
    for (const auto& file : files) {
        const std::string text = readTextFile(file.string());
        for (std::sregex_iterator it(text.begin(), text.end(), definition), end; it != end; ++it)
            functions.insert((*it)[2]);
    }
    return functions;
}

void shellCommands(Uses& uses, const fs::path& script) {
    ShellCommandScanner(uses, fromRoot(script), shellFunctions(script)).scan(readTextFile(script.string()));
}

Uses programsUsed() {
    Uses uses;
    static const std::regex runCommandCall(R"#(runCommand\(\s*"([A-Za-z0-9_.+-]+))#");
    for (const char* dir : {"src", "tests", "bench"})
        for (const auto& path : filesUnder(dir, {".cpp", ".h"})) {
            const std::string text = readTextFile(path.string());
            for (std::sregex_iterator it(text.begin(), text.end(), runCommandCall), end; it != end; ++it)
                if ((*it)[1] != "bash")
                    add(uses, (*it)[1], fromRoot(path) + ":" + std::to_string(lineOf(text, it->position())));
        }
    static const std::regex findProgram(R"(find_program\(\s*'([^']+)')");
    for (const char* dir : {".", "src", "tests", "bench"}) {
        const fs::path build = fs::path(sourceRoot()) / dir / "meson.build";
        if (!fs::exists(build)) continue;
        const std::string text = readTextFile(build.string());
        for (std::sregex_iterator it(text.begin(), text.end(), findProgram), end; it != end; ++it)
            add(uses, (*it)[1], fromRoot(build) + ":" + std::to_string(lineOf(text, it->position())));
    }
    static const std::regex absolute(R"(['"]/usr/bin/([A-Za-z0-9_.+-]+)['"])");
    for (const auto& path : filesUnder("tests/browser", {".mjs"})) {
        const std::string text = readTextFile(path.string());
        for (std::sregex_iterator it(text.begin(), text.end(), absolute), end; it != end; ++it)
            add(uses, (*it)[1], fromRoot(path) + ":" + std::to_string(lineOf(text, it->position())));
    }
    for (const auto& path : filesUnder("bench", {".sh"})) shellCommands(uses, path);
    for (const auto& path : filesUnder("fuzz", {".sh"})) shellCommands(uses, path);
    for (const char* script : {"tools/run", "tools/test", "tools/sanitize", ".ci/run"})
        shellCommands(uses, fs::path(sourceRoot()) / script);
    return uses;
}

// --- Debian -------------------------------------------------------------------

// Which installed package owns each path (dpkg -S); paths nobody owns are absent.
std::map<std::string, std::string> owners(const std::set<std::string>& paths) {
    std::map<std::string, std::string> owner;
    for (const auto& path : paths) {
        // dpkg knows the path as installed: /usr/lib/... may be reached through /lib (merged /usr).
        for (const std::string& candidate : {path, path.rfind("/usr/", 0) == 0 ? path.substr(4) : "/usr" + path}) {
            auto [code, out] = runCommand("dpkg -S '" + candidate + "' 2>/dev/null");
            if (code != 0) continue;
            std::istringstream lines(out);
            for (std::string line; std::getline(lines, line);) {
                const auto colon = line.find(": ");
                if (colon == std::string::npos || line.substr(colon + 2) != candidate) continue;
                std::string package = line.substr(0, colon);
                package = package.substr(0, package.find(':'));  // libfoo:amd64
                owner[path] = package;
            }
            if (owner.count(path)) break;
        }
    }
    return owner;
}

std::vector<std::string> split(const std::string& text, char by) {
    std::vector<std::string> parts;
    std::istringstream in(text);
    for (std::string p; std::getline(in, p, by);) parts.push_back(p);
    return parts;
}

std::string bareName(std::string name) {
    const auto start = name.find_first_not_of(' ');
    if (start == std::string::npos) return "";
    name = name.substr(start);
    name = name.substr(0, name.find_first_of(" (:"));
    return name;
}

// Installed packages reachable through Depends/Pre-Depends from tools/deps.sh's
// list and the base system. Alternatives and virtual packages follow every
// installed package that satisfies them.
std::set<std::string> dependencyClosure(const std::vector<std::string>& roots) {
    auto [code, out] = runCommand(
        "dpkg-query -W -f='${db:Status-Status}\\t${Package}\\t${Essential}\\t${Priority}\\t${Provides}\\t"
        "${Depends}, ${Pre-Depends}\\n'");
    REQUIRE(code == 0);
    std::map<std::string, std::set<std::string>> satisfiers;  // name or provided name -> packages
    std::map<std::string, std::vector<std::vector<std::string>>> depends;
    std::vector<std::string> queue = roots;
    for (const auto& line : split(out, '\n')) {
        const auto fields = split(line, '\t');
        if (fields.size() < 6 || fields[0] != "installed") continue;
        const std::string& package = fields[1];
        satisfiers[package].insert(package);
        for (const auto& p : split(fields[4], ',')) satisfiers[bareName(p)].insert(package);
        for (const auto& group : split(fields[5], ',')) {
            std::vector<std::string> alternatives;
            for (const auto& a : split(group, '|'))
                if (!bareName(a).empty()) alternatives.push_back(bareName(a));
            if (!alternatives.empty()) depends[package].push_back(alternatives);
        }
        if (fields[2] == "yes" || fields[3] == "required") queue.push_back(package);
    }
    std::set<std::string> closure;
    while (!queue.empty()) {
        const std::string name = queue.back();
        queue.pop_back();
        for (const auto& package : satisfiers[name]) {
            if (!closure.insert(package).second) continue;
            for (const auto& group : depends[package])
                for (const auto& alternative : group) queue.push_back(alternative);
        }
    }
    return closure;
}

std::vector<std::string> depsShPackages() {
    auto [code, out] = runCommand("bash '" + sourceRoot() + "/tools/deps.sh' --list");
    REQUIRE(code == 0);
    std::vector<std::string> packages;
    for (const auto& p : split(out, '\n'))
        if (!p.empty()) packages.push_back(p);
    REQUIRE(packages.size() > 5);
    return packages;
}

// The plugin file of an installed element; the GStreamer core library for
// elements built into it ("bin", "pipeline").
std::string pluginFile(GstElementFactory* factory) {
    GstPlugin* plugin = gst_plugin_feature_get_plugin(GST_PLUGIN_FEATURE(factory));
    std::string file;
    if (plugin && gst_plugin_get_filename(plugin)) file = gst_plugin_get_filename(plugin);
    if (plugin) gst_object_unref(plugin);
    if (file.empty()) {
        auto [code, out] = runCommand("ldconfig -p | awk '/libgstreamer-1.0.so.0 / {print $NF; exit}'");
        file = out.substr(0, out.find('\n'));
    }
    return fs::weakly_canonical(file).string();
}

}  // namespace

TEST_CASE("every GStreamer element the project uses comes from a package tools/deps.sh installs", "[deps]") {
    const std::set<std::string> closure = dependencyClosure(depsShPackages());
    std::set<std::string> capsNames;
    Uses uses = elementsUsed(knownElementNames(), capsNames);
    addDecoders(uses, capsNames);
    // The elements camrelay cannot work without must be among those found: the scan works.
    for (const char* core : {"videotestsrc", "clockoverlay", "textoverlay", "jpegenc", "appsink", "rtspsrc", "x264enc"})
        CHECK(uses.count(core));

    std::cout << "elements checked:";
    for (const auto& [name, where] : uses) std::cout << ' ' << name;
    std::cout << std::endl;

    std::map<std::string, GstElementFactory*> installed;
    std::set<std::string> files;
    for (const auto& [name, where] : uses) {
        GstElementFactory* factory = gst_element_factory_find(name.c_str());
        if (!factory) continue;
        installed[name] = factory;
        files.insert(pluginFile(factory));
    }
    const auto owner = owners(files);
    INFO(uses.size() << " elements used, " << closure.size() << " packages in the closure");
    for (const auto& [name, where] : uses) {
        auto factory = installed.find(name);
        if (factory == installed.end()) {
            const auto package = camrelay::debianPackageOfElement(name);
            FAIL_CHECK("element \"" << name << "\" (used at " << places(where) << ") is not installed; "
                       << (package ? "Debian package " + *package + " provides it: add it to tools/deps.sh"
                                   : std::string("no Debian package lists it")));
            continue;
        }
        const std::string file = pluginFile(factory->second);
        const auto package = owner.find(file);
        if (package == owner.end()) {
            FAIL_CHECK("element \"" << name << "\" (used at " << places(where) << ") comes from " << file
                       << ", which no Debian package owns");
            continue;
        }
        if (!closure.count(package->second))
            FAIL_CHECK("element \"" << name << "\" (used at " << places(where) << ") comes from plugin " << file
                       << " of Debian package " << package->second
                       << ", which is not in the dependency closure of tools/deps.sh: add " << package->second);
    }
    for (auto& [name, factory] : installed) gst_object_unref(factory);
}

TEST_CASE("every program the tests, benchmarks and scripts call comes from a package tools/deps.sh installs", "[deps]") {
    const std::set<std::string> closure = dependencyClosure(depsShPackages());
    const Uses uses = programsUsed();
    for (const char* expected : {"ffprobe", "ffmpeg", "chromium", "node", "curl"}) CHECK(uses.count(expected));
    std::cout << "programs checked:";
    for (const auto& [name, where] : uses) std::cout << ' ' << name;
    std::cout << std::endl;
    for (const auto& [name, where] : uses) {
        // The program as found on PATH, or where Debian puts it when PATH finds another one first (pyenv, nvm).
        std::set<std::string> paths;
        auto [code, out] = runCommand("command -v '" + name + "'");
        if (code == 0) paths.insert(fs::weakly_canonical(out.substr(0, out.find('\n'))).string());
        for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"})
            if (fs::exists(std::string(dir) + name)) paths.insert(fs::weakly_canonical(std::string(dir) + name).string());
        if (paths.empty()) {
            FAIL_CHECK("program \"" << name << "\" (used at " << places(where) << ") is not installed");
            continue;
        }
        const auto owner = owners(paths);
        std::string packages;
        bool found = false;
        for (const auto& [path, package] : owner) {
            packages += (packages.empty() ? "" : ", ") + package;
            found = found || closure.count(package);
        }
        if (owner.empty())
            FAIL_CHECK("program \"" << name << "\" (used at " << places(where) << ") is not from a Debian package");
        else if (!found)
            FAIL_CHECK("program \"" << name << "\" (used at " << places(where) << ") comes from Debian package "
                       << packages << ", which is not in the dependency closure of tools/deps.sh");
    }
}
