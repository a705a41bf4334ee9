import Cryptography
import Foundation
import HTTPServer
import Ingest
import JSONCoding
import LeadStore
import Segmentation
import Postgres

/// The Segment-compatible ingest endpoints and `POST /v1/events`, scope `ingest`. Thin: inflate,
/// decode, call the group-commit pipeline, encode; the group's `Authenticate` has already
/// checked the key (before the body is inflated, see `bodyWriteKey(limit:)`) and
/// `VerifySignature` the signature of a key that requires one.
public struct IngestRoutes: Sendable {
    let service: IngestService
    /// Where messages go: the group-commit lanes (one transaction per batch of waiting messages).
    let pipeline: GroupCommitPipeline
    let decoder: SegmentMessageDecoder
    /// Allowed clock difference for `X-Leadrouter-Signature` timestamps.
    let signatureToleranceSeconds: Int

    /// Who may call cross-origin (browsers): `CORS` on every Segment-compatible route.
    let cors: CORSPolicy

    public init(pipeline: GroupCommitPipeline, limits: IngestLimits = IngestLimits(), signatureToleranceSeconds: Int = 300) {
        self.init(pipeline: pipeline, limits: limits, signatureToleranceSeconds: signatureToleranceSeconds,
                  cors: CORSPolicy(global: .none, pool: nil))
    }

    package init(pipeline: GroupCommitPipeline, limits: IngestLimits, signatureToleranceSeconds: Int = 300, cors: CORSPolicy) {
        self.service = pipeline.service; self.pipeline = pipeline; self.decoder = SegmentMessageDecoder(limits: limits)
        self.signatureToleranceSeconds = signatureToleranceSeconds; self.cors = cors
    }

    static let success = HTTPResponse.json(["success": true])

    /// analytics.js's one-letter paths (`/v1/t`, …: the first letter of the call's type).
    static let shortPaths: [(path: String, kind: SegmentMessage.Kind)] = SegmentMessage.Kind.allCases.map { (String($0.rawValue.prefix(1)), $0) }
    /// Where batches arrive: `/v1/batch` (Python, Node, Go), `/v1/import` (Ruby, Java), `/v1/b`
    /// (analytics-swift, analytics-kotlin, analytics.js batching).
    static let batchPaths = ["batch", "import", "b"]

    /// Adds the ingest routes to the `/v1` group; each body limit gets its own group, since
    /// the body's `writeKey` is read from the body inflated under that limit, and
    /// `POST /v1/events` its own, closed to public keys. The Segment-compatible routes answer
    /// browsers (`CORS`, and `OPTIONS` preflights in `BrowserRoutes`).
    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        let limits = decoder.limits
        let signed = VerifySignature(toleranceSeconds: signatureToleranceSeconds)
        let early = CORS.early(cors), browsers = CORS.keyed(cors)
        // Public (browser/app) write keys may call the Segment-compatible endpoints only: the
        // answer of POST /v1/events is the lead's decision, which a page must never read.
        v1.group(middleware: [early] + api.authenticated(.ingest, bodyCredential: bodyWriteKey(limit: limits.maxMessageBytes), allowPublic: true)
                    + [browsers, signed]) { singles in
            for (path, kind) in SegmentMessage.Kind.allCases.map({ ($0.rawValue, $0) }) + Self.shortPaths {
                singles.post("/\(path)", maxBodyBytes: limits.maxMessageBytes) { request, context in
                    try single(request, kind: kind, key: context.authenticatedKey())
                }
            }
        }
        v1.group(middleware: api.authenticated(.ingest, bodyCredential: bodyWriteKey(limit: limits.maxMessageBytes)) + [signed]) { events in
            events.post("/events", maxBodyBytes: limits.maxMessageBytes) { request, context in
                try event(request, key: context.authenticatedKey())
            }
        }
        v1.group(middleware: [early] + api.authenticated(.ingest, bodyCredential: bodyWriteKey(limit: limits.maxBatchBytes), allowPublic: true)
                    + [browsers, signed]) { batches in
            for path in Self.batchPaths {
                batches.post("/\(path)", maxBodyBytes: limits.maxBatchBytes) { request, context in
                    try batch(request, key: context.authenticatedKey())
                }
            }
        }
    }

    /// Every path `install` adds that browsers may call, for the preflight routes.
    static var browserPaths: [String] {
        SegmentMessage.Kind.allCases.map(\.rawValue) + shortPaths.map(\.path) + batchPaths
    }

    func single(_ request: HTTPRequest, kind: SegmentMessage.Kind, key: StoredAPIKey) throws -> HTTPResponse {
        let body = try inflated(request, limit: decoder.limits.maxMessageBytes)
        let message: SegmentMessage
        do { message = try decoder.decodeSingle(body, kind: kind, receivedAt: service.clock()) } catch { throw APIErrors.badRequest(error) }
        guard message.addressedToLeadrouter else {
            service.counters.countNotAddressed(1)
            return Self.success
        }
        _ = try pipeline.ingest(message, writeKey: key.id)
        return Self.success
    }

    /// Segment's batch semantics: a body that is a JSON batch answers 200 with its valid messages
    /// applied and the invalid ones listed under `rejected` (absent when there are none); only a
    /// body that is not one (not JSON, no `batch` array, over a limit) is a 400.
    func batch(_ request: HTTPRequest, key: StoredAPIKey) throws -> HTTPResponse {
        let body = try inflated(request, limit: decoder.limits.maxBatchBytes)
        let decoded: BatchDecoding
        do { decoded = try decoder.decodeBatchEach(body, receivedAt: service.clock()) } catch { throw APIErrors.badRequest(error) }
        var rejected = decoded.rejected
        let addressed = decoded.accepted.filter { $0.message.addressedToLeadrouter }
        service.counters.countNotAddressed(decoded.accepted.count - addressed.count)
        let outcomes = pipeline.ingestEach(addressed.map(\.message), writeKey: key.id)
        // A lane whose COMMIT's outcome is unknown makes the whole answer say so (not "rolled back").
        for case .failure(let error as PostgresError) in outcomes where error.code == .commitOutcomeUnknown { throw error }
        for ((index, message), outcome) in zip(addressed, outcomes) {
            guard case .failure(let error) = outcome else { continue }
            // A value PostgreSQL refused, or a message of a quarantined lead: that message alone
            // is dropped. Anything else (the database unreachable) fails the request as before:
            // re-sending it is safe.
            let problem: HTTPError
            if let lead = error as? UndecodableLead {
                problem = HTTPError(.conflict, title: "Lead quarantined", type: APIErrors.leadQuarantinedType,
                                    errors: [ProblemFieldError(pointer: "/batch/\(index)", detail: APIErrors.quarantinedDetail(lead))])
            } else {
                guard let refusal = error as? PostgresError, refusal.isRefusal else { throw error }
                problem = APIErrors.refused(refusal, pointer: "/batch/\(index)")
            }
            rejected.append(RejectedMessage(index: index, messageId: message.messageIdProvided ? message.messageId : nil,
                                            errors: problem.errors.map { MessageFieldError(pointer: $0.pointer, detail: $0.detail) }))
        }
        guard !rejected.isEmpty else { return Self.success }
        rejected.sort { $0.index < $1.index }
        RejectionCounter(pool: service.pool, counters: service.counters, logger: service.logger).record(rejected, writeKey: key.id, at: service.clock())
        return .json(BatchAnswer(rejected: rejected))
    }

    func event(_ request: HTTPRequest, key: StoredAPIKey) throws -> HTTPResponse {
        let body = try inflated(request, limit: decoder.limits.maxMessageBytes)
        let message: SegmentMessage
        do { message = try decoder.decodeSingle(body, kind: .track, receivedAt: service.clock()) } catch { throw APIErrors.badRequest(error) }
        let result = try pipeline.ingest(message, writeKey: key.id)
        return APIErrors.rawJSON(result.decision.bytes)
    }

    /// Where `Authenticate` finds the key of a request without an `Authorization` header:
    /// Segment's `writeKey` in the body (inflated under `limit`; top level, or the first batch
    /// message's), read leniently so that a message that fails validation can still carry it.
    /// Authentication thus comes before anything about the body is revealed: an unknown or
    /// missing key gets 401 even when the body is invalid too (a body that cannot be inflated
    /// at all is the exception when there is no header: its 4xx comes first). It is asked only
    /// after the cheap checks: the route's body limit (the router, from `Content-Length`), the
    /// client address's rate limit (`Authenticate`), and the `Content-Encoding` (`inflated`
    /// refuses one it does not support before inflating anything).
    func bodyWriteKey(limit: Int) -> @Sendable (HTTPRequest) throws -> String? {
        { request in Self.writeKey(in: try inflated(request, limit: limit)) }
    }

    /// Segment's `writeKey` field of a body, if it is a JSON object carrying one (also when a
    /// message holds a value refused later, such as a NUL: that message is dropped, not the batch).
    static func writeKey(in body: [UInt8]) -> String? {
        let value = (try? JSONReader.parse(body)) ?? (try? JSONReader.parseReportingContent(body))?.value
        guard case .object(let object)? = value else { return nil }
        if case .string(let key)? = object["writeKey"], !key.isEmpty { return key }
        guard case .array(let batch)? = object["batch"] else { return nil }
        return batch.lazy.compactMap { $0["writeKey"]?.stringValue }.first { !$0.isEmpty }
    }

    /// The body, inflated when sent with `Content-Encoding: gzip` (capped at `limit` + 1 bytes so
    /// an oversized result is refused by the decoder's limit check rather than buffered).
    func inflated(_ request: HTTPRequest, limit: Int) throws -> [UInt8] {
        guard let encoding = request.headers["Content-Encoding"]?.lowercased(), encoding != "identity" else { return request.body }
        guard encoding == "gzip" || encoding == "x-gzip" else {
            throw HTTPError(.unsupportedMediaType, detail: "Content-Encoding '\(encoding)' is not supported: send gzip or nothing")
        }
        do {
            return try GzipInflater.inflate(request.body, maxOutputBytes: limit + 1)
        } catch .tooLarge {
            throw HTTPError(.contentTooLarge, detail: "the body inflates to more than \(limit) bytes")
        } catch {
            throw HTTPError(.badRequest, detail: error.description)
        }
    }
}
