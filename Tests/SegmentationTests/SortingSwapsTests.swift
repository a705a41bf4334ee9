import XCTest
@testable import Segmentation

/// `Ruleset.sortingSwaps`: the swaps that move signal series from slot order into sorted-key
/// order in place must give exactly the order `slotBySortedPosition` names, for any permutation.
final class SortingSwapsTests: XCTestCase {
    func apply(_ permutation: [Int]) -> [Int] {
        var items = Array(permutation.indices)
        for (a, b) in Ruleset.sortingSwaps(permutation) { items.swapAt(a, b) }
        return items
    }

    func testSwapsRealiseEveryPermutation() {
        XCTAssertTrue(Ruleset.sortingSwaps([0, 1, 2, 3]).isEmpty, "orders that agree need no swap")
        XCTAssertEqual(apply([2, 0, 1]), [2, 0, 1])
        XCTAssertEqual(apply([1, 0, 3, 2]), [1, 0, 3, 2])
        var rng = SystemRandomNumberGenerator()
        for n in [1, 2, 5, 17, 40] {
            for _ in 0..<50 {
                let permutation = Array(0..<n).shuffled(using: &rng)
                XCTAssertEqual(apply(permutation), permutation)
                XCTAssertLessThan(Ruleset.sortingSwaps(permutation).count, max(n, 1))
            }
        }
    }
}
