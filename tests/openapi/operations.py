#!/usr/bin/env python3
"""Prints the operations of an OpenAPI document, one a line, for
tests/integration/test_openapi.cpp (the C++ tests have no YAML parser):

    METHOD<TAB>PATH<TAB>ACCESS<TAB>STATUS,STATUS,...<TAB>WEBSOCKET<TAB>BODY

ACCESS is the operation's x-camrelay-access ("-" when missing), WEBSOCKET its
x-camrelay-websocket ("true", "optional" or "-"), BODY the JSON example of its
request body on one line ("-" when it has none). Exits 1 naming the problem
when the document cannot be read."""
import json
import sys

import yaml

METHODS = ("get", "head", "post", "put", "patch", "delete", "options", "trace")


def resolve(doc, node):
    """Follows a local $ref (#/components/...) to what it names."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError("only local $ref is supported: " + ref)
        target = doc
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def example_body(doc, operation):
    body = resolve(doc, operation.get("requestBody"))
    if not body:
        return "-"
    media = body.get("content", {}).get("application/json")
    if not media or "example" not in media:
        return "-"
    return json.dumps(media["example"], separators=(",", ":"))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: operations.py openapi.yaml")
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
        sys.exit(sys.argv[1] + ": no paths object")
    for path, item in doc["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            statuses = ",".join(str(code) for code in operation.get("responses", {}))
            access = str(operation.get("x-camrelay-access", "-"))
            websocket = operation.get("x-camrelay-websocket", "-")
            websocket = "true" if websocket is True else str(websocket)
            print("\t".join([method.upper(), path, access, statuses, websocket, example_body(doc, operation)]))


if __name__ == "__main__":
    main()
