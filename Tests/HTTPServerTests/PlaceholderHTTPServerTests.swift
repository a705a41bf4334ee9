import XCTest
@testable import HTTPServer

final class HTTPServerModuleTests: XCTestCase {
    func testModuleLinks() {}
}
