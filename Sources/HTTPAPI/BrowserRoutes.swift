import Foundation
import HTTPServer
import Ingest
import JSONCoding
import LeadStore
import Segmentation

/// What Segment's browser and mobile SDKs ask besides sending events, and the CORS preflights
/// of every ingest path:
///
/// - `GET /v1/projects/{writeKey}/settings`: the settings document analytics.js, analytics-swift
///   and analytics-kotlin fetch from their CDN host first; it names this service as their
///   `Segment.io` destination (`apiHost` = the `Host` the request came to + `/v1`, `protocol`),
///   with no other destination and no remote plugin. Unknown key: 401, like every ingest path.
/// - `POST /v1/m`: analytics.js's own telemetry; parsed, counted (`IngestCounters.browserMetricSeries`),
///   never stored. The settings ask for none (`metrics.sampleRate` 0), but an SDK configured
///   elsewhere may still send some, and a 404 there would be logged in every browser.
/// - `OPTIONS` on each of those and on every ingest path: `CORSPreflight`.
package struct BrowserRoutes: Sendable {
    let cors: CORSPolicy
    let counters: IngestCounters
    /// `http` or `https`: what the settings tell SDKs to use, unless the request came through a
    /// proxy that says (`X-Forwarded-Proto`).
    let defaultProtocol: String

    static let metricsBodyLimit = 64 * 1024

    package init(cors: CORSPolicy, counters: IngestCounters, defaultProtocol: String) {
        self.cors = cors; self.counters = counters; self.defaultProtocol = defaultProtocol
    }

    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        let browsers = CORS.keyed(cors)
        v1.group(middleware: [CORS.early(cors)] + api.authenticated(.ingest, bodyCredential: { $0.pathParameters["writeKey"] }, allowPublic: true)
                    + [browsers]) { settings in
            settings.get("/projects/{writeKey}/settings") { request, context in
                _ = try context.authenticatedKey()
                return try self.settings(request)
            }
        }
        v1.group(middleware: [browsers]) { metrics in
            metrics.post("/m", maxBodyBytes: Self.metricsBodyLimit) { request, _ in try self.metrics(request) }
        }
        let preflightPaths = IngestRoutes.browserPaths.map { ("/\($0)", "POST") } + [("/m", "POST"), ("/projects/{writeKey}/settings", "GET")]
        for (path, methods) in preflightPaths {
            let preflight = CORSPreflight(policy: cors, methods: methods)
            v1.add(.OPTIONS, path) { request, context in try preflight.answer(request, context) }
        }
    }

    /// The settings document. The write key in the path is the caller's own (it authenticated
    /// with it), so echoing it back as `apiKey` reveals nothing.
    func settings(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let host = request.headers["Host"], Self.isHost(host) else {
            throw HTTPError(.badRequest, detail: "the request has no usable Host header: the settings name the host to send to")
        }
        let forwarded = request.headers["X-Forwarded-Proto"]?.lowercased()
        let scheme = forwarded == "https" || forwarded == "http" ? forwarded! : defaultProtocol
        let writeKey = request.pathParameters["writeKey"] ?? ""
        let segment: [String: Value] = [
            "apiKey": .string(writeKey), "apiHost": .string(host + "/v1"), "protocol": .string(scheme),
            "unbundledIntegrations": .array([]), "addBundledMetadata": .bool(true), "maybeBundledConfigIds": .object([:]),
        ]
        let document: [String: Value] = [
            "integrations": .object(["Segment.io": .object(segment)]),
            "plan": .object(["track": .object(["__default": .object(["enabled": .bool(true), "integrations": .object([:])])]),
                             "identify": .object(["__default": .object(["enabled": .bool(true)])]),
                             "group": .object(["__default": .object(["enabled": .bool(true)])])]),
            "edgeFunction": .object([:]), "analyticsNextEnabled": .bool(true), "middlewareSettings": .object([:]),
            "enabledMiddleware": .object([:]), "metrics": .object(["sampleRate": .number(0)]),
            "legacyVideoPluginsEnabled": .bool(false), "remotePlugins": .array([]),
        ]
        var writer = JSONWriter(capacity: 1024)
        writer.value(.object(document))
        var response = APIErrors.rawJSON(writer.bytes)
        // Short: a key's settings change when the service moves, and browsers share nothing here.
        response.headers.set("Cache-Control", "private, max-age=60")
        // Answers differ by Origin (CORS headers) and by Host: a cache must not mix them.
        response.headers.set("Vary", "Origin, Host, X-Forwarded-Proto")
        return response
    }

    /// A host name or address with an optional port: what may go into `apiHost`.
    static func isHost(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 260 && text.utf8.allSatisfy { hostBytes.contains($0) }
    }

    static let hostBytes: Set<UInt8> = Set(Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.:[]".utf8))

    /// `{"series": [...]}` (analytics.js's `/m` body, sent as `text/plain`): counted, not stored.
    func metrics(_ request: HTTPRequest) throws -> HTTPResponse {
        guard case .object(let object)? = try? JSONReader.parse(request.body) else {
            throw HTTPError(.badRequest, detail: "the body must be a JSON object such as {\"series\": []}")
        }
        guard case .array(let series)? = object["series"] else {
            throw HTTPError(.badRequest, detail: "the body needs a \"series\" array", errors: [.init(pointer: "/series", detail: "must be an array")])
        }
        counters.countBrowserMetricSeries(series.count)
        return IngestRoutes.success
    }
}

