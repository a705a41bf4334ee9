import XCTest
@testable import Segmentation

/// `CarriedIDs`: the identities a decision carries on a channel equal what was appended, in order,
/// whether they repeat the previous decision's (the previous array kept), stop short of it, or differ.
final class CarriedIDsTests: XCTestCase {
    func collect(_ previous: [Int64], _ appended: [Int64]) -> (isPrevious: Bool, list: [Int64]) {
        var c = CarriedIDs(previous: previous)
        for id in appended { c.append(id) }
        return (c.isPrevious, c.list)
    }

    func testTheSameIdentitiesKeepThePreviousList() {
        XCTAssertTrue(collect([3, 1, 2], [3, 1, 2]).isPrevious)
        XCTAssertTrue(collect([], []).isPrevious)
    }

    func testAPrefixOfThePreviousIsNotThePrevious() {
        let r = collect([3, 1, 2], [3, 1])
        XCTAssertFalse(r.isPrevious)
        XCTAssertEqual(r.list, [3, 1])
        XCTAssertEqual(collect([3, 1, 2], []).list, [])
        XCTAssertFalse(collect([3], []).isPrevious)
    }

    func testDifferingIdentitiesAreBuiltInOrder() {
        XCTAssertEqual(collect([3, 1, 2], [3, 2]).list, [3, 2])
        XCTAssertEqual(collect([3, 1], [3, 1, 4]).list, [3, 1, 4])
        XCTAssertFalse(collect([3, 1], [3, 1, 4]).isPrevious)
        XCTAssertEqual(collect([], [5, 6]).list, [5, 6])
        XCTAssertEqual(collect([1, 2], [2, 1]).list, [2, 1])
    }
}
