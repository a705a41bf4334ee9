extension Ruleset {
    /// The encoding of a state holding every signal of this ruleset with its coverage (key, keep,
    /// window, flags) and no occurrence: what every lead's stored state under this ruleset repeats
    /// byte for byte. The store packs states with it as a preset dictionary, so a row keeps only
    /// the times (a state of the sample ruleset, ~420 B, packs to ~30 B instead of ~330 B without
    /// it; docs/benchmarks/storage.md). The same ruleset gives the same bytes in every process.
    public var emptySignalEncoding: [UInt8] {
        var state = SignalState()
        for spec in signals {
            state.series[spec.key] = SignalSeries(keep: spec.keep, window: spec.window, keepsLatest: spec.keepsLatest)
        }
        return state.encode()
    }
}
