import Foundation

/// Time in segment as a histogram of fixed log buckets (the rollup's `k`): bucket k holds the
/// stays of [2^(k/4) − 1, 2^((k+1)/4) − 1) seconds. Four buckets per doubling keep a year of
/// hourly histograms small (about 100 buckets cover 200 days) and bound the error of a
/// percentile: the answer is the bucket's geometric middle, within 2^(1/8) − 1 ≈ 9.05 % of every
/// stay in the bucket (for stays of a few seconds, within one second).
package enum StayHistogram {
    /// The largest relative error of `percentile` (stays above a few seconds).
    package static let relativeError = pow(2, 1.0 / 8) - 1

    /// The bucket of a stay of `seconds` (as the migration computes it).
    package static func bucket(seconds: Double) -> Int { Int((4 * log2(max(seconds, 0) + 1)).rounded(.down)) }

    /// The `q` quantile (0…1) of the stays in `counts` (bucket → exits), in seconds; nil when empty.
    package static func percentile(_ q: Double, of counts: [Int: Int]) -> Double? {
        let total = counts.values.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = max(1, Int((q * Double(total)).rounded(.up)))
        var seen = 0
        for k in counts.keys.sorted() {
            seen += counts[k]!
            if seen >= rank {
                let low = pow(2, Double(k) / 4) - 1, high = pow(2, Double(k + 1) / 4) - 1
                return low <= 0 ? high / 2 : (low * high).squareRoot()
            }
        }
        return nil
    }
}
