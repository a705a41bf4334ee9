import Foundation
import Logging

/// `logging.format: json`: each entry as one JSON object on one line, for log shippers that
/// parse JSON (Loki, Elasticsearch, Cloud Logging). The same fields as the text lines:
/// `timestamp` (RFC 3339, UTC, milliseconds), `level`, `label`, `message`, and the entry's
/// metadata (the handler's, the provider's, then the call's, later ones winning) under
/// `metadata`. JSON escaping keeps every control character inside the string, so an entry is
/// one line whatever it carries, as `OneLineLogHandler` guarantees for text.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let write: @Sendable (String) -> Void

    /// Lines go to `write` (standard error when not given), each with its newline.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.label = label; self.metadataProvider = metadataProvider; self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let given = event.metadata { merged.merge(given) { _, new in new } }
        var object: [String: Any] = [
            "timestamp": Date().formatted(Self.timestampStyle),
            "level": event.level.rawValue,
            "label": label,
            "message": event.message.description,
        ]
        if !merged.isEmpty { object["metadata"] = merged.mapValues(Self.plain) }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        write(String(decoding: data, as: UTF8.self) + "\n")
    }

    static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!)

    static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .dictionary(let dictionary): return dictionary.mapValues(plain)
        case .array(let values): return values.map(plain)
        }
    }
}
