// JSON from clients: the checked-access helper and the pure message parsers
// of /api/ws, /api/cameras/{id}/ws and /publish, with the inputs of issue 9.
#include "core/json_input.h"
#include "ingest/publish_message.h"
#include "outputs/viewer_command.h"

#include <catch2/catch.hpp>

using namespace camrelay;

namespace {
std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }
}  // namespace

TEST_CASE("the nesting scan counts brackets outside strings only, and stops early", "[json][issue9]") {
    CHECK(jsonNestingDepth("{}", 16) == 1);
    CHECK(jsonNestingDepth(R"({"a":[{"b":[1]}]})", 16) == 4);
    CHECK(jsonNestingDepth(R"({"a":"[[[[[[[[[[[[[[[[[[[[[[["})", 4) == 1);
    CHECK(jsonNestingDepth(R"({"a":"\"[[[[[[[[[[["})", 4) == 1);  // an escaped quote does not end the string
    CHECK(jsonNestingDepth(nested(200000), 16) == 17);
    CHECK(jsonNestingDepth("]]]]]][", 16) == 1);  // unbalanced: json-glib refuses it later
    CHECK(jsonNestingDepth("", 16) == 0);
}

TEST_CASE("JsonInput refuses oversized and deeply nested text before json-glib sees it", "[json][issue9]") {
    // The exact crash input of issue 9: '[' x 200,000 then ']' x 200,000 (400 KB).
    const JsonInput deep(nested(200000), JsonInputLimits{16 * 1024 * 1024, 16});
    CHECK_FALSE(deep.ok());
    CHECK_THAT(deep.error(), Catch::Contains("nested deeper than 16"));
    CHECK(deep.root() == nullptr);
    CHECK_FALSE(deep.rootObject());

    const JsonInput big(std::string(100, ' ') + "{}", JsonInputLimits{50, 16});
    CHECK_FALSE(big.ok());
    CHECK_THAT(big.error(), Catch::Contains("over 50 bytes"));

    const JsonInput atLimit(nested(16), JsonInputLimits{1024, 16});
    CHECK(atLimit.ok());
    CHECK(JsonInput(nested(17), JsonInputLimits{1024, 16}).ok() == false);

    for (const char* bad : {"", "nul", "{", "{\"a\":}", "[1,]", "\"unterminated", "{\"a\":1}}"}) {
        INFO(bad);
        CHECK_FALSE(JsonInput(bad, JsonInputLimits{}).rootObject());
    }
    CHECK_FALSE(JsonInput(std::string("{\"a\":1}\0{", 9), JsonInputLimits{}).ok());
}

TEST_CASE("typed getters report a member of the wrong type as such, never as NULL or 0", "[json][issue9]") {
    using Member = JsonObjectView::Member;
    const JsonInput input(R"({"s":"text","i":3,"d":2.5,"b":true,"n":null,"o":{"x":1},"a":[1]})", JsonInputLimits{});
    const JsonObjectView o = input.rootObject();
    REQUIRE(o);
    std::string s;
    double d = 0;
    bool b = false;
    JsonObjectView sub;
    CHECK(o.string("s", &s) == Member::Ok);
    CHECK(s == "text");
    CHECK(o.number("i", &d) == Member::Ok);
    CHECK(d == 3);
    CHECK(o.number("d", &d) == Member::Ok);
    CHECK(d == 2.5);
    CHECK(o.boolean("b", &b) == Member::Ok);
    CHECK(b);
    CHECK(o.object("o", &sub) == Member::Ok);
    CHECK(sub.number("x", &d) == Member::Ok);
    for (const char* key : {"i", "d", "b", "n", "o", "a"}) CHECK(o.string(key, &s) == Member::WrongType);
    for (const char* key : {"s", "b", "n", "o", "a"}) CHECK(o.number(key, &d) == Member::WrongType);
    for (const char* key : {"s", "i", "n", "o", "a"}) CHECK(o.boolean(key, &b) == Member::WrongType);
    for (const char* key : {"s", "i", "d", "b", "n", "a"}) CHECK(o.object(key, &sub) == Member::WrongType);
    CHECK(o.string("missing", &s) == Member::Missing);
    CHECK(JsonObjectView().string("s", &s) == Member::Missing);
    CHECK(s == "text");  // untouched by failed reads
}

TEST_CASE("publish messages: the issue 9 crash inputs are refused with a reason", "[json][push][issue9]") {
    // Stack overflow in json-glib before: 400 KB of nesting under the 16 MiB cap.
    PublishMessageParse deep = parsePublishMessage(nested(200000));
    CHECK_FALSE(deep.jpeg);
    CHECK(deep.code == "bad_message");
    CHECK_THAT(deep.reason, Catch::Contains("nested deeper"));
    // NULL type reached g_str_equal before.
    PublishMessageParse boolType = parsePublishMessage(R"({"type":true,"data":{"frame":"AAAA"}})");
    CHECK_FALSE(boolType.jpeg);
    CHECK(boolType.code == "bad_message");
    CHECK_THAT(boolType.reason, Catch::Contains("type must be"));

    for (const char* bad : {R"({"type":1,"data":{"frame":"AAAA"}})", R"({"type":null,"data":{"frame":"AAAA"}})",
                            R"({"type":["frame"],"data":{"frame":"AAAA"}})", R"({"type":"frame","data":"AAAA"})",
                            R"({"type":"frame","data":{"frame":1}})", R"({"type":"frame","data":{"frame":true}})",
                            R"({"type":"frame","data":{"frame":null}})", R"({"type":"frame","data":{"frame":{}}})",
                            R"({"type":"frame","data":{"frame":""}})", R"({"type":"frame"})", R"({"type":"frame","data":[]})",
                            R"(["frame"])", "3", "\"frame\"", "not json", ""}) {
        INFO(bad);
        PublishMessageParse p = parsePublishMessage(bad);
        CHECK_FALSE(p.jpeg);
        CHECK(p.code == "bad_message");
        CHECK_FALSE(p.reason.empty());
    }
    PublishMessageParse good = parsePublishMessage(R"({"type":"frame","data":{"frame":"/9j/2Q=="}})");
    REQUIRE(good.jpeg);
    CHECK(*good.jpeg == std::string("\xff\xd8\xff\xd9", 4));
}

TEST_CASE("viewer commands: typed, checked, and the issue 9 input is an error message", "[json][websocket][issue9]") {
    // std::string(nullptr) threw here before, and the parser leaked.
    ViewerCommandParse camera = parseViewerCommand(R"({"type":"set","data":{"camera":1,"fps":5}})", true);
    CHECK_FALSE(camera.command);
    CHECK(camera.code == "bad_message");
    CHECK_THAT(camera.reason, Catch::Contains("data.camera must be a string"));
    ViewerCommandParse deep = parseViewerCommand(nested(200000), true);
    CHECK_FALSE(deep.command);
    CHECK(deep.code == "bad_json");

    struct Case { const char* text; bool multi; const char* code; };
    const Case bad[] = {
        {"not json", false, "bad_json"},
        {"[1,2]", false, "bad_json"},
        {R"({"type":"dance"})", false, "unknown_type"},
        {R"({})", false, "unknown_type"},
        {R"({"type":true})", false, "bad_message"},
        {R"({"type":7})", true, "bad_message"},
        {R"({"type":"set","data":7})", false, "bad_message"},
        {R"({"type":"set","data":{"fps":"fast"}})", false, "bad_fps"},
        {R"({"type":"set","data":{"fps":-1}})", false, "bad_fps"},
        {R"({"type":"set","data":{"fps":241}})", false, "bad_fps"},
        {R"({"type":"set","data":{"fps":1e999}})", false, "bad_fps"},
        {R"({"type":"set","data":{"fps":null}})", false, "bad_fps"},
        {R"({"type":"set","data":{"fps":true}})", false, "bad_fps"},
        {R"({"type":"subscribe","data":{"camera":"a"}})", false, "unknown_type"},
        {R"({"type":"subscribe","data":{"camera":["a"]}})", true, "bad_message"},
        {R"({"type":"unsubscribe","data":{"camera":{}}})", true, "bad_message"},
        {R"({"type":"subscribe","data":{"camera":null}})", true, "bad_message"},
    };
    for (const auto& c : bad) {
        INFO(c.text);
        ViewerCommandParse p = parseViewerCommand(c.text, c.multi);
        CHECK_FALSE(p.command);
        CHECK(p.code == c.code);
    }
    ViewerCommandParse sub = parseViewerCommand(R"({"type":"subscribe","data":{"camera":"front","fps":5}})", true);
    REQUIRE(sub.command);
    CHECK(sub.command->type == ViewerCommandType::Subscribe);
    CHECK(sub.command->camera == "front");
    CHECK(sub.command->fps == 5);
    ViewerCommandParse set = parseViewerCommand(R"({"type":"set","data":{"fps":0}})", false);
    REQUIRE(set.command);
    CHECK(set.command->type == ViewerCommandType::Set);
    CHECK(set.command->camera.empty());
    CHECK(parseViewerCommand(R"({"type":"ping"})", false).command->type == ViewerCommandType::Ping);
    // Client text quoted back is short and valid UTF-8.
    ViewerCommandParse longType = parseViewerCommand("{\"type\":\"" + std::string(5000, 'x') + "\"}", true);
    CHECK(longType.reason.size() < 200);
}
