import Cryptography
import Essentials
import HTTPServer

/// `GET /v1/lr.js` and `GET /v1/lr-<version>.js`: the tracker, public (no key: a `<script>` tag
/// sends none), from memory. The versioned URL never changes content, so it is cached for a
/// year; the plain one is revalidated every 5 minutes with its `ETag` (a 304 costs no body), so
/// a new version reaches pages that load `/v1/lr.js` soon after a deploy. Gzip is chosen once
/// per request from `Accept-Encoding`; both bodies are built at start.
package struct TrackerScriptRoutes: Sendable {
    /// What one URL answers: the bytes, both encodings, and its caching policy.
    struct Asset: Sendable {
        let plain: [UInt8]
        let gzipped: [UInt8]?
        let etag: String
    }

    let asset: Asset

    package init() {
        let plain = Array(TrackerScript.source.utf8)
        // A strong ETag from the content: same bytes on every node, whatever its start time.
        asset = Asset(plain: plain, gzipped: GzipDeflater.compress(plain),
                      etag: "\"lr-\(TrackerScript.version)-\(Hex.encode(Crypto.sha256(plain).prefix(8)))\"")
    }

    /// Adds both URLs to `group` (the `/v1` group), unauthenticated.
    package func install<Context: RequestContext>(into group: inout RouterGroup<Context>) {
        let asset = self.asset
        group.get("/lr.js") { request, _ in
            Self.answer(request, asset, cacheControl: "public, max-age=300")
        }
        group.get("/lr-\(TrackerScript.version).js") { request, _ in
            Self.answer(request, asset, cacheControl: "public, max-age=31536000, immutable")
        }
    }

    static func answer(_ request: HTTPRequest, _ asset: Asset, cacheControl: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/javascript; charset=utf-8")
        headers.add("Cache-Control", cacheControl)
        headers.add("ETag", asset.etag)
        headers.add("Vary", "Accept-Encoding")
        headers.add("X-Content-Type-Options", "nosniff")
        // Sites with Cross-Origin-Embedder-Policy may load it from the leadrouter host.
        headers.add("Cross-Origin-Resource-Policy", "cross-origin")
        if let match = request.headers["If-None-Match"],
           match.split(separator: ",").contains(where: { let tag = $0.trimmingWhitespace(); return tag == asset.etag || tag == "*" }) {
            return HTTPResponse(status: HTTPStatus(304, "Not Modified"), headers: headers)
        }
        if let gzipped = asset.gzipped, GzipDeflater.accepted(by: request.headers["Accept-Encoding"]) {
            headers.add("Content-Encoding", "gzip")
            return HTTPResponse(status: .ok, headers: headers, body: gzipped)
        }
        return HTTPResponse(status: .ok, headers: headers, body: asset.plain)
    }
}
