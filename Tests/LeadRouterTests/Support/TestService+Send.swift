import Foundation

extension TestService {
    /// Posts a Segment message as an SDK would: stamped with the service clock's time and a
    /// fresh messageId (ingest key unless `key`).
    func send(_ path: String, _ body: [String: Any], key: String? = nil) throws -> TestResponse {
        var message = body
        message["timestamp"] = iso(clock.now)
        message["messageId"] = UUID().uuidString
        return try client().json("POST", path, key: key ?? ingestKey, message)
    }
}
