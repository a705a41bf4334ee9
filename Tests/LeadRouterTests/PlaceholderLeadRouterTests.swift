import XCTest
@testable import LeadRouter

final class LeadRouterModuleTests: XCTestCase {
    func testModuleLinks() {}
}
