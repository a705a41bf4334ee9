import XCTest
@testable import Segmentation

final class SegmentationModuleTests: XCTestCase {
    func testModuleLinks() {}
}
