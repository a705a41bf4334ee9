import Essentials
import Logging

/// The `Logger` side of `LogThrottle`, used by every loop that fails repeatedly while the
/// database is away (pool connects, the listener, lanes, sweeper, queue worker, webhook
/// dispatch). It lives here because this is the lowest target with swift-log that all of them
/// import; the throttle itself is in `Essentials`.
extension Logger {
    /// Logs `message` with `error` (folded to one line) as its `error` metadata, unless the same
    /// message with the same error text was logged less than `throttle.window` seconds ago; then
    /// it is only counted, and the count comes out as one "(repeated N more times)" line later.
    /// Use one throttle per level: `settle` writes its summaries at one level.
    package func throttled(
        _ level: Logger.Level, _ message: String, error: (any Error)? = nil, by throttle: LogThrottle,
        metadata: Logger.Metadata = [:]
    ) {
        let entry = LogThrottle.Entry(message: message, detail: error.map { OneLine.fold("\($0)") } ?? "")
        write(throttle.record(entry), level: level, metadata: metadata)
    }

    /// Writes the summaries of windows that ended (call it on a loop's success path), or of
    /// everything held back with `flush` (on recovery or shutdown).
    package func settle(_ throttle: LogThrottle, level: Logger.Level, flush: Bool = false) {
        write(flush ? throttle.flush() : throttle.expired(), level: level, metadata: [:])
    }

    private func write(_ lines: [LogThrottle.Line], level: Logger.Level, metadata: Logger.Metadata) {
        for line in lines {
            switch line {
            case .first(let entry):
                var all = metadata
                if !entry.detail.isEmpty { all["error"] = "\(entry.detail)" }
                log(level: level, "\(entry.message)", metadata: all)
            case .repeated(let entry, let count, let seconds):
                var all: Logger.Metadata = ["repeats": "\(count)", "over_seconds": "\(Int(seconds.rounded()))"]
                if !entry.detail.isEmpty { all["error"] = "\(entry.detail)" }
                log(level: level, "\(entry.message) (repeated \(count) more time\(count == 1 ? "" : "s"))", metadata: all)
            }
        }
    }
}
