import Essentials
import Logging

/// Wraps the service's log handler so that every entry is exactly one line whatever it carries:
/// control characters in the message and in metadata values (a request path as received, an
/// error's text from a C library) are escaped (`\n`, `\t`, `\u{1b}`) by `OneLine.escape`.
/// Known multi-line sources are folded where they arise (libpq's messages, in `Postgres`); this
/// is the net for the rest. `leadrouter serve` and `dev` install it around `StreamLogHandler`.
public struct OneLineLogHandler<Wrapped: LogHandler>: LogHandler {
    public var wrapped: Wrapped

    public init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(OneLine.escape(event.message.description))"
        event.metadata = event.metadata.map(Self.escape)
        wrapped.log(event: event)
    }

    static func escape(_ metadata: Logger.Metadata) -> Logger.Metadata {
        metadata.mapValues(escape)
    }

    static func escape(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): return .string(OneLine.escape(text))
        case .stringConvertible(let convertible): return .string(OneLine.escape(convertible.description))
        case .dictionary(let dictionary): return .dictionary(escape(dictionary))
        case .array(let values): return .array(values.map(escape))
        }
    }
}
