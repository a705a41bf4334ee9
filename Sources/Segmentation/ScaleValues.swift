extension Dictionary where Value == Double {
    /// Multiplies every value by `f` in place (the keys and their hashes do not change) and tells
    /// whether any value then satisfies `drops`: decaying a lead's score parts and interest
    /// counts. Walked by index on purpose: `for i in values.indices` held the values view, and so
    /// the storage, for the whole loop, so the first write found it shared and copied the whole
    /// dictionary — once per evaluation that decayed (docs/benchmarks/backtest.md).
    @inline(__always)
    mutating func scaleValues(by f: Double, anyAfter drops: (Double) -> Bool) -> Bool {
        var any = false
        var i = startIndex
        while i != endIndex {
            values[i] *= f
            if drops(values[i]) { any = true }
            formIndex(after: &i)
        }
        return any
    }
}
