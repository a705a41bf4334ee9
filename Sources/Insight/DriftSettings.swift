/// `drift.*`: how drift is judged (docs/insight.md#drift).
public struct DriftSettings: Sendable, Equatable {
    /// Relative change from the baseline that raises a volume alert (0.5: half as many or 1.5×
    /// as many), and relative fall of a capture rate that raises a capture alert.
    public var threshold = 0.5
    /// The least baseline volume (messages in the hour or day compared) for an alert: below
    /// it, noise is larger than any signal.
    public var minimumVolume = 20
    /// How many previous weeks the baseline averages (the same hours of each).
    public var weeks = 4
    /// Seconds between flushes of each node's counters to PostgreSQL (an unmapped event name
    /// is listed at most this long after it first arrived).
    public var flushInterval = 15.0
    /// Seconds between drift checks for `drift.detected` webhooks (one node at a time).
    public var checkInterval = 60.0

    public init() {}
}
