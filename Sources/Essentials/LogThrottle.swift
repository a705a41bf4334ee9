import Dispatch

/// Holds back repeats of the same log message, so that an outage gives a few lines instead of
/// one per retry (a loop retrying every 200 ms, every pooled connect failing).
///
/// Per entry (message and detail, e.g. "sweep failed" and the error text): the first occurrence
/// is logged; identical ones within `window` seconds are only counted. The count comes out as one
/// `repeated` line when the window ends (seen by the next `record` or `expired()` call) or when a
/// distinct entry arrives, so the summary always comes before whatever is logged next.
/// Knows nothing of swift-log: it answers which lines to write; `Postgres` has the `Logger`
/// side (`Logger.throttled`).
public final class LogThrottle: Sendable {
    /// What is logged: the message and the varying part that makes entries distinct.
    public struct Entry: Hashable, Sendable {
        public var message: String
        public var detail: String
        public init(message: String, detail: String = "") {
            self.message = message
            self.detail = detail
        }
    }

    /// A line to write now.
    public enum Line: Equatable, Sendable {
        /// The first occurrence in a window: log it as usual.
        case first(Entry)
        /// `count` more occurrences of the entry were held back over the last `seconds`.
        case repeated(Entry, count: Int, seconds: Double)
    }

    private struct Window {
        var opened: Double
        /// The order windows were opened in: `opened` ties when the clock has not moved.
        var sequence: Int
        /// Start of the span the held-back count covers (reset when it is summarised early).
        var countingSince: Double
        var held: Int
    }

    /// Seconds during which repeats of an entry are counted instead of logged.
    public let window: Double
    /// Most entries with an open window; beyond it the oldest is summarised and forgotten.
    public let maxEntries: Int
    private let clock: @Sendable () -> Double
    private let windows = Locked([Entry: Window]())
    private let opened = Locked(0)

    /// `clock` returns seconds on a monotonic scale (tests inject one).
    public init(window: Double = 10, maxEntries: Int = 64, clock: @escaping @Sendable () -> Double = LogThrottle.uptime) {
        self.window = window
        self.maxEntries = max(1, maxEntries)
        self.clock = clock
    }

    /// Seconds since boot (monotonic).
    public static let uptime: @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Records one occurrence of `entry`; returns the lines to write now, in order (possibly none).
    public func record(_ entry: Entry) -> [Line] {
        let now = clock()
        return windows.withLock { windows in
            var lines = Self.close(&windows, now: now, window: window, all: false)
            if var open = windows[entry] {
                open.held += 1
                windows[entry] = open
                return lines
            }
            // A distinct entry: what is held back of the others is summarised first.
            for (other, var open) in windows.sorted(by: { $0.value.sequence < $1.value.sequence }) where open.held > 0 {
                lines.append(.repeated(other, count: open.held, seconds: now - open.countingSince))
                open.held = 0
                open.countingSince = now
                windows[other] = open
            }
            if windows.count >= maxEntries, let oldest = windows.min(by: { $0.value.sequence < $1.value.sequence }) {
                windows[oldest.key] = nil
            }
            windows[entry] = Window(opened: now, sequence: opened.withLock { $0 += 1; return $0 }, countingSince: now, held: 0)
            lines.append(.first(entry))
            return lines
        }
    }

    /// Summaries of windows that have ended; call it from a loop's quiet path so that the count
    /// of the last burst comes out without waiting for the next failure.
    public func expired() -> [Line] {
        let now = clock()
        return windows.withLock { Self.close(&$0, now: now, window: window, all: false) }
    }

    /// Summaries of everything held back, and every window closed (recovery, shutdown).
    public func flush() -> [Line] {
        let now = clock()
        return windows.withLock { Self.close(&$0, now: now, window: window, all: true) }
    }

    private static func close(_ windows: inout [Entry: Window], now: Double, window: Double, all: Bool) -> [Line] {
        let ended = windows.filter { all || now - $0.value.opened >= window }.sorted { $0.value.sequence < $1.value.sequence }
        var lines: [Line] = []
        for (entry, open) in ended {
            windows[entry] = nil
            let end = min(now, open.opened + window)  // the count covers the window, not the time since
            if open.held > 0 { lines.append(.repeated(entry, count: open.held, seconds: end - open.countingSince)) }
        }
        return lines
    }
}
