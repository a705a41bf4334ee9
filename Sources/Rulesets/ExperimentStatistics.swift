import Foundation

/// The statistics of an experiment report (docs/rulesets.md "Experiments"), pure functions of
/// counts so that tests check them against values computed elsewhere. Two-sided tests, α = 0.05.
public enum ExperimentStatistics {
    /// z for a two-sided 95 % interval / α = 0.05 test: Φ⁻¹(0.975).
    public static let z975 = 1.959963984540054
    /// z for 80 % power: Φ⁻¹(0.80).
    public static let z80 = 0.8416212335729143

    /// The Wilson score interval of `successes` out of `n` at 95 %: centre
    /// (p̂ + z²/2n) / (1 + z²/n), half-width z·√(p̂(1−p̂)/n + z²/4n²) / (1 + z²/n). Unlike p̂ ± z·se it
    /// stays inside [0, 1] and is not zero-width at 0 or n successes. Nil for n = 0.
    public static func wilson(successes: Int, n: Int, z: Double = z975) -> (low: Double, high: Double)? {
        guard n > 0 else { return nil }
        let nd = Double(n), p = Double(successes) / nd, z2 = z * z
        let denominator = 1 + z2 / nd
        let centre = (p + z2 / (2 * nd)) / denominator
        let half = z * (p * (1 - p) / nd + z2 / (4 * nd * nd)).squareRoot() / denominator
        return (max(0, centre - half), min(1, centre + half))
    }

    /// The pooled two-proportion z-test of x1/n1 against x2/n2: z = (p1 − p2) / √(p(1−p)(1/n1 + 1/n2))
    /// with p = (x1 + x2)/(n1 + n2); two-sided p-value = erfc(|z|/√2). Nil when either group is
    /// empty or the pooled rate is 0 or 1 (no variance: nothing to test).
    public static func twoProportion(x1: Int, n1: Int, x2: Int, n2: Int) -> (z: Double, pValue: Double)? {
        guard let se = pooledStandardError(x1: x1, n1: n1, x2: x2, n2: n2) else { return nil }
        let z = (Double(x1) / Double(n1) - Double(x2) / Double(n2)) / se
        return (z, erfc(abs(z) / 2.0.squareRoot()))
    }

    /// The minimum detectable effect at the current sizes: the smallest absolute difference in
    /// rates that a two-sided test at α = 0.05 would detect with 80 % power,
    /// MDE = (z₀.₉₇₅ + z₀.₈₀) · √(p(1−p)(1/n1 + 1/n2)), p the pooled rate. Nil when the test is
    /// undefined (see `twoProportion`).
    public static func minimumDetectableEffect(x1: Int, n1: Int, x2: Int, n2: Int) -> Double? {
        pooledStandardError(x1: x1, n1: n1, x2: x2, n2: n2).map { (z975 + z80) * $0 }
    }

    private static func pooledStandardError(x1: Int, n1: Int, x2: Int, n2: Int) -> Double? {
        guard n1 > 0, n2 > 0 else { return nil }
        let p = Double(x1 + x2) / Double(n1 + n2)
        guard p > 0, p < 1 else { return nil }
        return (p * (1 - p) * (1 / Double(n1) + 1 / Double(n2))).squareRoot()
    }

    /// Pearson's chi-squared goodness of fit of `observed` counts against `expectedShares`
    /// (summing to 1): χ² = Σ (O − E)²/E with E = N·share, k − 1 degrees of freedom, p-value the
    /// upper tail Q(df/2, χ²/2). Arms with share 0 are left out. Nil for fewer than two arms or no leads.
    public static func chiSquared(observed: [Int], expectedShares: [Double]) -> (statistic: Double, degreesOfFreedom: Int, pValue: Double)? {
        let pairs = zip(observed, expectedShares).filter { $0.1 > 0 }
        let total = pairs.reduce(0) { $0 + $1.0 }
        guard pairs.count >= 2, total > 0 else { return nil }
        let shareSum = pairs.reduce(0.0) { $0 + $1.1 }
        var statistic = 0.0
        for (o, share) in pairs {
            let e = Double(total) * share / shareSum
            statistic += (Double(o) - e) * (Double(o) - e) / e
        }
        let df = pairs.count - 1
        return (statistic, df, upperIncompleteGamma(Double(df) / 2, statistic / 2))
    }

    /// The regularised upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a): the series for x < a + 1,
    /// else Lentz's continued fraction (Numerical Recipes §6.2), to about 1e-14.
    static func upperIncompleteGamma(_ a: Double, _ x: Double) -> Double {
        guard x > 0 else { return 1 }
        let logPrefix = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            var term = 1 / a, sum = term, n = a
            for _ in 0..<10_000 {
                n += 1; term *= x / n; sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return max(0, 1 - sum * exp(logPrefix))
        }
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b; if abs(d) < tiny { d = tiny }
            c = b + an / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return min(1, exp(logPrefix) * h)
    }
}
