import Foundation

/// The occurrence times of one signal (an event type plus an optional `where` filter), ascending,
/// and the coverage they were kept with.
struct SignalSeries: Sendable, Equatable {
    /// Occurrence times in epoch milliseconds, ascending (duplicates allowed).
    var times: [Int64] = []
    /// How many of the most recent occurrences at or before `now` are kept (the saturation bound).
    var keep: Int = 0
    /// The longest window the series answers exactly (ms); 0 if only the latest occurrence matters.
    var window: Int64 = 0
    /// Whether the latest occurrence is kept even outside every window (for `since`/`inactive`).
    var keepsLatest: Bool = false
    /// False when the series started after the lead already had events (a ruleset added the
    /// signal) and has not been backfilled: it may miss older occurrences.
    var complete: Bool = true
    /// For a value signal (`sum`/`max`/`min`/`avg` of a property) the property's value of each
    /// occurrence, parallel to `times`; empty for a signal that only counts.
    var values: [Double] = []

    /// Inserts an occurrence at its place, so late events count by their own time.
    mutating func insert(_ t: Int64) {
        times.insert(t, at: place(t))
    }

    /// Inserts an occurrence of a value signal with its value, at its place in time.
    mutating func insert(_ t: Int64, value: Double) {
        let i = place(t)
        times.insert(t, at: i)
        values.insert(value, at: i)
    }

    private func place(_ t: Int64) -> Int {
        var i = times.count
        while i > 0, times[i - 1] > t { i -= 1 }
        return i
    }

    /// `sum`, `max`, `min` or `avg` of the values in `(now - window, now]`, among those kept;
    /// null for `max`/`min`/`avg` of no occurrence, 0 for `sum`.
    func aggregate(_ fn: Aggregate, now: Int64, window w: Int64) -> RV {
        guard values.count == times.count else { return fn == .sum ? .num(0) : .null }
        var n = 0
        var total = 0.0, lo = Double.infinity, hi = -Double.infinity
        for i in times.indices.reversed() {
            let t = times[i]
            if t > now { continue }
            if t <= now - w { break }
            let v = values[i]
            n += 1; total += v; lo = Swift.min(lo, v); hi = Swift.max(hi, v)
        }
        switch fn {
        case .sum: return .num(total)
        case .max: return n == 0 ? .null : .num(hi)
        case .min: return n == 0 ? .null : .num(lo)
        case .avg: return n == 0 ? .null : .num(total / Double(n))
        }
    }

    /// Occurrences in `(now - window, now]`, among those kept.
    func count(now: Int64, window w: Int64) -> Int {
        var n = 0
        for t in times.reversed() {
            if t > now { continue }
            if t <= now - w { break }
            n += 1
        }
        return n
    }

    /// The latest occurrence at or before `now`.
    func latest(atOrBefore now: Int64) -> Int64? {
        times.last { $0 <= now }
    }

    /// Takes on what the ruleset's spec needs from now on (`need`), marked incomplete when it did
    /// not cover it (unless the lead is `fresh` and the series empty). In place: passing the
    /// series to `isCovered` from outside copied it, retaining and releasing its two arrays.
    mutating func adopt(_ need: SignalNeeds, fresh: Bool) {
        complete = need.isCovered(by: self) || (fresh && times.isEmpty)
        keep = need.keep; window = need.window; keepsLatest = need.keepsLatest
    }

    /// Drops what no rule can need any more, given that `now` does not go backwards: occurrences
    /// outside the longest window, and beyond the `keep` most recent at or before `now`. The latest
    /// at or before `now` stays when `keepsLatest`. Future occurrences (after `now`) all stay, up to
    /// `SignalState.maxTimesPerSignal` in total.
    mutating func prune(now: Int64) {
        var firstFuture = times.count
        while firstFuture > 0, times[firstFuture - 1] > now { firstFuture -= 1 }
        var start = firstFuture
        while start > 0, firstFuture - start < keep, times[start - 1] > now &- window { start -= 1 }
        // Nothing kept inside the window: the latest past occurrence still answers `since`/`inactive`.
        if keepsLatest, start == firstFuture, firstFuture > 0 { start -= 1 }
        start = max(start, times.count - SignalState.maxTimesPerSignal)
        if start > 0 {
            times.removeFirst(start)
            if !values.isEmpty { values.removeFirst(start) }
        }
    }
}

/// The compact per-lead memory of when counted events happened: for each signal the compiled
/// ruleset counts, exactly the occurrence times needed to answer every `count`, `since` and
/// `inactive` for every window it uses.
///
/// Bound: a signal keeps at most `keep` occurrences inside its longest window (plus the latest one
/// for `since`/`inactive`, plus not-yet-reached future ones), and never more than
/// `maxTimesPerSignal` (64). `keep` is one more than the largest constant a count of the signal is
/// compared with (`count(x, 7d) >= 3` needs 4, since a count compared with `c` only needs to be
/// known up to `c + 1`); a count used any other way (arithmetic, compared with another count)
/// keeps 64, so such a count is exact up to 64 and reads 64 above that. A value signal
/// (`sum`/`max`/`min`/`avg`) keeps the value beside each time and always keeps 64: its aggregate
/// is exact while its longest window holds at most 64 occurrences, and over the 64 most recent
/// ones beyond that.
public struct SignalState: Sendable, Equatable, Codable {
    /// Hard cap on occurrence times kept per signal.
    public static let maxTimesPerSignal = 64
    /// Encoding format version (first byte of `encode()`).
    public static let formatVersion: UInt8 = 1
    /// Version byte when some signal carries values (flag 4, values as 8-byte doubles after the
    /// times): a binary that predates values refuses the state instead of misreading it.
    public static let valuesFormatVersion: UInt8 = 2

    var series = SeriesTable()

    /// An empty state.
    public init() {}

    /// Number of signals stored.
    public var signalCount: Int { series.count }

    /// The stored signal keys, sorted.
    public var keys: [UInt64] { series.keys.sorted() }

    /// Compact binary form for the lead row: version byte, then per signal (sorted by key) the
    /// 8-byte key, coverage (keep, window, flags: 1 = keeps latest, 2 = incomplete, 4 = values)
    /// and delta-encoded varint times, then for a value signal the values (little-endian doubles).
    public func encode() -> [UInt8] {
        let withValues = series.values.contains { !$0.values.isEmpty }
        var out: [UInt8] = [withValues ? SignalState.valuesFormatVersion : SignalState.formatVersion]
        Varint.put(UInt64(series.count), &out)
        for (key, s) in zip(series.keys, series.values) {
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: key >> (8 * UInt64(i)))) }
            Varint.put(UInt64(s.keep), &out)
            Varint.put(UInt64(max(0, s.window)), &out)
            let hasValues = !s.values.isEmpty && s.values.count == s.times.count
            out.append((s.keepsLatest ? 1 : 0) | (s.complete ? 0 : 2) | (hasValues ? 4 : 0))
            Varint.put(UInt64(s.times.count), &out)
            var prev: Int64 = 0
            for (i, t) in s.times.enumerated() {
                if i == 0 { Varint.put(Varint.zigzag(t), &out) } else { Varint.put(UInt64(t - prev), &out) }
                prev = t
            }
            if hasValues {
                for v in s.values {
                    let bits = v.bitPattern
                    for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }
                }
            }
        }
        return out
    }

    /// Decodes `encode()` output; throws on a wrong version or truncated bytes.
    public init(decoding bytes: [UInt8]) throws(SignalStateDecodingError) {
        guard let v = bytes.first else { throw .truncated }
        guard v == SignalState.formatVersion || v == SignalState.valuesFormatVersion else { throw .unsupportedVersion(v) }
        var r = Varint.Reader(bytes: bytes, pos: 1)
        let n = try r.next()
        for _ in 0..<n {
            var key: UInt64 = 0
            for i in 0..<8 { key |= UInt64(try r.byte()) << (8 * UInt64(i)) }
            var s = SignalSeries()
            s.keep = Int(try r.next())
            s.window = Int64(try r.next())
            let flags = try r.byte()
            s.keepsLatest = flags & 1 != 0
            s.complete = flags & 2 == 0
            let count = try r.next()
            guard count <= UInt64(bytes.count) else { throw .truncated }
            var prev: Int64 = 0
            for i in 0..<Int(count) {
                let raw = try r.next()
                let t = i == 0 ? Varint.unzigzag(raw) : prev + Int64(raw)
                s.times.append(t)
                prev = t
            }
            if flags & 4 != 0 {
                for _ in 0..<Int(count) {
                    var bits: UInt64 = 0
                    for i in 0..<8 { bits |= UInt64(try r.byte()) << (8 * UInt64(i)) }
                    s.values.append(Double(bitPattern: bits))
                }
            }
            series[key] = s
        }
    }

    /// JSON form: the `encode()` bytes in base64.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        guard let data = Data(base64Encoded: try c.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "signal state is not base64")
        }
        self = try SignalState(decoding: [UInt8](data))
    }

    /// JSON form: the `encode()` bytes in base64.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(Data(encode()).base64EncodedString())
    }
}

/// Series by signal key, in two parallel arrays sorted by key: the engine maps a stored state to
/// its slots by comparing the key list with the ruleset's (no hashing per signal), and the
/// encoding walks it in key order as it is.
struct SeriesTable: Sendable, Equatable {
    private(set) var keys: [UInt64] = []
    private(set) var values: [SignalSeries] = []

    init() {}

    /// A table from keys already sorted ascending and without duplicates.
    init(sortedKeys: [UInt64], values: [SignalSeries]) {
        precondition(sortedKeys.count == values.count)
        self.keys = sortedKeys; self.values = values
    }

    var count: Int { keys.count }
    var isEmpty: Bool { keys.isEmpty }

    /// The values, moved out: the table is left empty. When the table held the only reference to
    /// them, the caller can reorder and change them in place, without copying a series.
    mutating func takeValues() -> [SignalSeries] {
        var out: [SignalSeries] = []
        swap(&out, &values)
        keys = []
        return out
    }

    private func position(_ key: UInt64) -> (Int, Bool) {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return (lo, lo < keys.count && keys[lo] == key)
    }

    subscript(key: UInt64) -> SignalSeries? {
        get {
            let (i, found) = position(key)
            return found ? values[i] : nil
        }
        set {
            let (i, found) = position(key)
            switch (found, newValue) {
            case (true, let v?): values[i] = v
            case (true, nil): keys.remove(at: i); values.remove(at: i)
            case (false, let v?): keys.insert(key, at: i); values.insert(v, at: i)
            case (false, nil): break
            }
        }
    }
}

/// Why signal-state bytes could not be read.
public enum SignalStateDecodingError: Error, Equatable, Sendable {
    /// The bytes end in the middle of a value.
    case truncated
    /// Written by a newer (or unknown) format version.
    case unsupportedVersion(UInt8)
}

/// LEB128 varints and zigzag, for the signal state encoding.
enum Varint {
    static func put(_ v: UInt64, _ out: inout [UInt8]) {
        var v = v
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }
    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }

    struct Reader {
        let bytes: [UInt8]
        var pos: Int
        mutating func byte() throws(SignalStateDecodingError) -> UInt8 {
            guard pos < bytes.count else { throw .truncated }
            defer { pos += 1 }
            return bytes[pos]
        }
        mutating func next() throws(SignalStateDecodingError) -> UInt64 {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let b = try byte()
                guard shift < 64 else { throw .truncated }
                v |= UInt64(b & 0x7f) << shift
                if b < 0x80 { return v }
                shift += 7
            }
        }
    }
}

/// FNV-1a 64-bit: a hash that is the same in every process and version, for stable signal keys.
func stableHash(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf29ce484222325
    for b in s.utf8 { h ^= UInt64(b); h = h &* 0x100000001b3 }
    return h
}
