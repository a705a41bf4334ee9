import Foundation
import XCTest

extension XCTestCase {
    /// Runs `body` on `defaultRuns` consecutive seeds from `firstSeed`; `<PREFIX>_SEED` and
    /// `<PREFIX>_RUNS` in the environment override both, to reproduce a failure or run deeper.
    /// Stops at the first seed whose body reports a problem (an XCTFail naming the seed).
    /// Returns the number of runs asked for.
    @discardableResult
    func runSeeds(_ prefix: String, firstSeed: UInt64, defaultRuns: Int, _ body: (UInt64) throws -> String?) rethrows -> Int {
        let environment = ProcessInfo.processInfo.environment
        let first = environment["\(prefix)_SEED"].flatMap(UInt64.init) ?? firstSeed
        let runs = environment["\(prefix)_RUNS"].flatMap(Int.init) ?? defaultRuns
        for offset in 0..<UInt64(runs) {
            let seed = first &+ offset
            if let failure = try body(seed) {
                XCTFail("seed \(seed): \(failure)")
                break
            }
        }
        return runs
    }
}
