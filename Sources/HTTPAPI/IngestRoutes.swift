import Cryptography
import Foundation
import HTTPServer
import Ingest
import JSONCoding
import LeadStore
import Segmentation

/// The Segment-compatible ingest endpoints and `POST /v1/events`, scope `ingest`. Thin: inflate,
/// decode, call the group-commit pipeline, encode; the group's `Authenticate` has already
/// checked the key (before the body is inflated, see `bodyWriteKey(limit:)`).
public struct IngestRoutes: Sendable {
    let service: IngestService
    /// Where messages go: the group-commit lanes (one transaction per batch of waiting messages).
    let pipeline: GroupCommitPipeline
    let decoder: SegmentMessageDecoder
    /// Allowed clock difference for `X-Leadrouter-Signature` timestamps.
    let signatureToleranceSeconds: Int

    public init(pipeline: GroupCommitPipeline, limits: IngestLimits = IngestLimits(), signatureToleranceSeconds: Int = 300) {
        self.service = pipeline.service; self.pipeline = pipeline; self.decoder = SegmentMessageDecoder(limits: limits)
        self.signatureToleranceSeconds = signatureToleranceSeconds
    }

    static let success = HTTPResponse.json(["success": true])

    /// Adds the ingest routes to the `/v1` group; each body limit gets its own group, since
    /// the body's `writeKey` is read from the body inflated under that limit.
    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        let limits = decoder.limits
        v1.group(middleware: api.authenticated(.ingest, bodyCredential: bodyWriteKey(limit: limits.maxMessageBytes))) { singles in
            for kind in SegmentMessage.Kind.allCases {
                singles.post("/\(kind.rawValue)", maxBodyBytes: limits.maxMessageBytes) { request, context in
                    try single(request, kind: kind, key: context.authenticatedKey())
                }
            }
            singles.post("/events", maxBodyBytes: limits.maxMessageBytes) { request, context in
                try event(request, key: context.authenticatedKey())
            }
        }
        v1.group(middleware: api.authenticated(.ingest, bodyCredential: bodyWriteKey(limit: limits.maxBatchBytes))) { batches in
            batches.post("/batch", maxBodyBytes: limits.maxBatchBytes) { request, context in
                try batch(request, key: context.authenticatedKey())
            }
        }
    }

    func single(_ request: HTTPRequest, kind: SegmentMessage.Kind, key: StoredAPIKey) throws -> HTTPResponse {
        let body = try inflated(request, limit: decoder.limits.maxMessageBytes)
        let message: SegmentMessage
        do { message = try decoder.decodeSingle(body, kind: kind, receivedAt: service.clock()) } catch { throw APIErrors.badRequest(error) }
        _ = try pipeline.ingest(message, writeKey: key.id)
        return Self.success
    }

    func batch(_ request: HTTPRequest, key: StoredAPIKey) throws -> HTTPResponse {
        let body = try inflated(request, limit: decoder.limits.maxBatchBytes)
        let decoded: (messages: [SegmentMessage], writeKey: String?)
        do { decoded = try decoder.decodeBatch(body, receivedAt: service.clock()) } catch { throw APIErrors.badRequest(error) }
        _ = try pipeline.ingest(decoded.messages, writeKey: key.id)
        return Self.success
    }

    func event(_ request: HTTPRequest, key: StoredAPIKey) throws -> HTTPResponse {
        let body = try inflated(request, limit: decoder.limits.maxMessageBytes)
        let message: SegmentMessage
        do { message = try decoder.decodeSingle(body, kind: .track, receivedAt: service.clock()) } catch { throw APIErrors.badRequest(error) }
        if let secret = key.signingSecret {
            do {
                try SignatureScheme.verify(header: request.headers["X-Leadrouter-Signature"], body: request.body,
                                           secret: Array(secret.utf8), now: Int(Date().timeIntervalSince1970),
                                           toleranceSeconds: signatureToleranceSeconds)
            } catch {
                throw Authenticator.unauthorized(error.description)
            }
        }
        let result = try pipeline.ingest(message, writeKey: key.id)
        return APIErrors.rawJSON(result.decision.bytes)
    }

    /// Where `Authenticate` finds the key of a request without an `Authorization` header:
    /// Segment's `writeKey` in the body (inflated under `limit`; top level, or the first batch
    /// message's), read leniently so that a message that fails validation can still carry it.
    /// Authentication thus comes before anything about the body is revealed: an unknown or
    /// missing key gets 401 even when the body is invalid too (a body that cannot be inflated
    /// at all is the exception when there is no header: its 4xx comes first).
    func bodyWriteKey(limit: Int) -> @Sendable (HTTPRequest) throws -> String? {
        { request in Self.writeKey(in: try inflated(request, limit: limit)) }
    }

    /// Segment's `writeKey` field of a body, if it is a JSON object carrying one.
    static func writeKey(in body: [UInt8]) -> String? {
        guard case .object(let object)? = try? JSONReader.parse(body) else { return nil }
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
