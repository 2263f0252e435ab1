"""Parses a Prometheus text exposition (the file named by argv[1]) with the
official client library's parser (Debian's python3-prometheus-client) and
prints its samples as JSON for the C++ tests: one object per sample with the
family's name and type. Exits non-zero (with the parser's message on stderr)
when the text does not parse."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
samples = []
for family in text_string_to_metric_families(text):
    for s in family.samples:
        samples.append({"family": family.name, "type": family.type, "name": s.name,
                        "labels": s.labels, "value": s.value})
print(json.dumps(samples))
