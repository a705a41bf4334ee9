import XCTest
@testable import Profiles

final class IdentityHygieneTests: XCTestCase {
    func testEmailIsTrimmedAndLowerCased() {
        XCTAssertEqual(EmailAddress("  Anna.Schmidt@Example.DE \n")?.value, "anna.schmidt@example.de")
        XCTAssertEqual(EmailAddress("a+tag@shop.co.uk")?.domain, "shop.co.uk")
    }

    func testInvalidEmailsAreRefused() {
        for bad in ["", "anna", "anna@", "@example.com", "anna@example", "anna@@example.com", "an na@example.com",
                    "anna@exa_mple.com", "anna@-example.com", "anna@example.c0m", ".anna@example.com",
                    "an..na@example.com", "anna@example..com", String(repeating: "a", count: 65) + "@example.com"] {
            XCTAssertNil(EmailAddress(bad), bad)
        }
    }

    func testCompanyDomainSkipsFreeMail() {
        let free = FreeMailDomains.default
        XCTAssertEqual(free.companyDomain(for: EmailAddress("ops@acme-shoes.com")!), "acme-shoes.com")
        XCTAssertNil(free.companyDomain(for: EmailAddress("someone@GMAIL.com")!))
        let custom = FreeMailDomains(["Example.org "])
        XCTAssertNil(custom.companyDomain(for: EmailAddress("x@example.org")!))
        XCTAssertEqual(custom.companyDomain(for: EmailAddress("x@gmail.com")!), "gmail.com")
    }

    func testCountriesBecomeAlpha2() {
        XCTAssertEqual(CountryCode("de")?.alpha2, "DE")
        XCTAssertEqual(CountryCode("DEU")?.alpha2, "DE")
        XCTAssertEqual(CountryCode("Germany")?.alpha2, "DE")
        XCTAssertEqual(CountryCode(" deutschland ")?.alpha2, "DE")
        XCTAssertEqual(CountryCode("United States")?.alpha2, "US")
        XCTAssertEqual(CountryCode("USA")?.alpha2, "US")
        XCTAssertEqual(CountryCode("uk")?.alpha2, "GB")
        XCTAssertEqual(CountryCode("Österreich")?.alpha2, "AT")
        XCTAssertNil(CountryCode("Atlantis"))
        XCTAssertNil(CountryCode(""))
    }
}
