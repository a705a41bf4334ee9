import Foundation
import Ingest
import LeadStore

extension ConfigurationKey {
    /// `ingest.limits.*`: what one ingest message or batch may hold (`IngestLimits`).
    static let ingestKeys: [ConfigurationKey] = [
        integer("ingest.limits.max_message_bytes", "LEADROUTER_INGEST_MAX_MESSAGE_BYTES", 256...1 << 24) { $0.ingestLimits.maxMessageBytes = $1 },
        integer("ingest.limits.max_batch_bytes", "LEADROUTER_INGEST_MAX_BATCH_BYTES", 256...1 << 28) { $0.ingestLimits.maxBatchBytes = $1 },
        integer("ingest.limits.max_batch_messages", "LEADROUTER_INGEST_MAX_BATCH_MESSAGES", 1...100_000) { $0.ingestLimits.maxBatchMessages = $1 },
        integer("ingest.limits.max_identifier_bytes", "LEADROUTER_INGEST_MAX_IDENTIFIER_BYTES", 16...1 << 16) { $0.ingestLimits.maxIdentifierBytes = $1 },
        text("ingest.limits.earliest_event_time", "LEADROUTER_INGEST_EARLIEST_EVENT_TIME") { c, v throws(ValueError) in
            guard let date = ISO8601.parse(v), date >= ISO8601.earliest, date <= ISO8601.latest else {
                throw ValueError(message: "expected an ISO 8601 date-time such as 2000-01-01T00:00:00Z, got \"\(v)\"")
            }
            c.ingestLimits.earliestEventTime = date
        },
        text("ingest.cors_allowed_origins", "LEADROUTER_CORS_ALLOWED_ORIGINS") { c, v throws(ValueError) in
            do { c.corsAllowedOrigins = try AllowedOrigins.parse(v) } catch {
                throw ValueError(message: "expected * or comma-separated origins such as https://shop.example.com: \(error)")
            }
        },
        duration("ingest.limits.max_event_time_ahead", "LEADROUTER_INGEST_MAX_EVENT_TIME_AHEAD", max: 366 * 86_400) {
            $0.ingestLimits.maxEventTimeAheadSeconds = $1
        },
    ]
}
