#!/usr/bin/env python3
"""A stand-in for Pyroscope's ingest API on 127.0.0.1, for the push tests.

    ingest_server.py DIR

Prints its port on the first line of stdout, then serves until killed.
Each POST /ingest must carry name, from, until and format=pprof in its
query and a multipart/form-data body with the parts `profile` and
`sample_type_config`; those are stored as DIR/N.pb.gz and DIR/N.json with
the query in DIR/N.query, and the answer is 200. Anything else gets 400 and
the reason in DIR/rejected (the test fails on it). The profile itself is
decoded by the test with go tool pprof.
"""
import email.parser
import email.policy
import http.server
import os
import sys
import urllib.parse

DIR = sys.argv[1]
count = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def reject(self, why):
        with open(os.path.join(DIR, "rejected"), "a") as f:
            f.write(why + "\n")
        self.send_response(400)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        global count
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path != "/ingest":
            return self.reject("path %r" % url.path)
        for key in ("name", "from", "until", "format"):
            if len(query.get(key, [])) != 1:
                return self.reject("query lacks %s: %r" % (key, url.query))
        if query["format"][0] != "pprof":
            return self.reject("format %r" % query["format"][0])
        if int(query["from"][0]) > int(query["until"][0]):
            return self.reject("from after until")
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("multipart/form-data"):
            return self.reject("content type %r" % ctype)
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        if not msg.is_multipart() or msg.defects:
            return self.reject("bad multipart body: %r" % (msg.defects,))
        parts = {}
        for part in msg.iter_parts():
            parts[part.get_param("name", header="content-disposition")] = part.get_payload(decode=True)
        if set(parts) != {"profile", "sample_type_config"}:
            return self.reject("parts %r" % sorted(parts))
        count += 1
        base = os.path.join(DIR, str(count))
        with open(base + ".query", "w") as f:
            f.write(query["name"][0] + "\n" + query["from"][0] + "\n" + query["until"][0] + "\n")
        with open(base + ".json", "wb") as f:
            f.write(parts["sample_type_config"])
        with open(base + ".pb.gz.tmp", "wb") as f:
            f.write(parts["profile"])
        os.rename(base + ".pb.gz.tmp", base + ".pb.gz")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
