import Foundation
import XCTest
@testable import Essentials
@testable import OutboundHTTP
@testable import Webhooks

/// SSRF protection without sockets: the address classifier on both sides of every range's
/// edges, the IPv4 spellings the resolver accepts, URL refusals, receiver text sanitizing, and
/// the creation-time check with an injected resolver.
final class WebhookSSRFUnitTests: XCTestCase {
    func classify(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> NonPublicRange?? {
        guard let address = IPAddress.parseLiteral(text) else {
            XCTFail("\(text) is not an address literal", file: file, line: line)
            return .none
        }
        return .some(AddressClassifier.classify(address))
    }

    func testIPv4RangesAndTheirEdges() {
        let table: [(String, NonPublicRange?)] = [
            ("0.0.0.0", .unspecified), ("0.255.255.255", .unspecified), ("1.0.0.0", nil),
            ("9.255.255.255", nil), ("10.0.0.0", .privateNetwork), ("10.0.0.1", .privateNetwork),
            ("10.255.255.255", .privateNetwork), ("11.0.0.0", nil),
            ("100.63.255.255", nil), ("100.64.0.0", .sharedAddressSpace), ("100.127.255.255", .sharedAddressSpace),
            ("100.128.0.0", nil),
            ("126.255.255.255", nil), ("127.0.0.0", .loopback), ("127.0.0.1", .loopback), ("127.255.255.255", .loopback),
            ("128.0.0.0", nil),
            ("169.253.255.255", nil), ("169.254.0.0", .linkLocal), ("169.254.169.254", .linkLocal),
            ("169.254.255.255", .linkLocal), ("169.255.0.0", nil),
            ("172.15.255.255", nil), ("172.16.0.0", .privateNetwork), ("172.31.255.255", .privateNetwork), ("172.32.0.0", nil),
            ("192.167.255.255", nil), ("192.168.0.0", .privateNetwork), ("192.168.255.255", .privateNetwork),
            ("192.169.0.0", nil),
            ("223.255.255.255", nil), ("224.0.0.0", .multicast), ("239.255.255.255", .multicast),
            ("240.0.0.0", .reserved), ("255.255.255.254", .reserved), ("255.255.255.255", .broadcast),
            ("8.8.8.8", nil), ("93.184.216.34", nil),
        ]
        for (text, expected) in table { XCTAssertEqual(classify(text), .some(expected), text) }
    }

    func testIPv6RangesEdgesAndEmbeddedIPv4() {
        let table: [(String, NonPublicRange?)] = [
            ("::", .unspecified), ("::1", .loopback), ("::2", .unspecified),   // ::2 is IPv4-compatible 0.0.0.2
            ("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nil), ("fe80::", .linkLocal), ("fe80::1", .linkLocal),
            ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .linkLocal), ("fec0::", .siteLocal),
            ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .siteLocal),
            ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nil), ("fc00::", .uniqueLocal),
            ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .uniqueLocal), ("fe00::", nil),
            ("feff::", .siteLocal), ("ff00::", .multicast), ("ff02::1", .multicast),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .multicast),
            ("2001:4860:4860::8888", nil), ("2606:2800:220:1:248:1893:25c8:1946", nil),
            // IPv4-mapped: judged by the IPv4 address (Linux connects ::ffff:127.0.0.1 to loopback).
            ("::ffff:127.0.0.1", .loopback), ("::ffff:7f00:1", .loopback), ("::ffff:10.0.0.1", .privateNetwork),
            ("::ffff:169.254.169.254", .linkLocal), ("::ffff:0.0.0.0", .unspecified), ("::ffff:100.64.0.1", .sharedAddressSpace),
            ("::ffff:255.255.255.255", .broadcast), ("::ffff:8.8.8.8", nil), ("::ffff:9.255.255.255", nil),
            // IPv4-compatible (deprecated): the IPv4 address's range, else reserved.
            ("::127.0.0.1", .loopback), ("::192.168.1.1", .privateNetwork), ("::8.8.8.8", .reserved),
            // NAT64 well-known prefix.
            ("64:ff9b::127.0.0.1", .loopback), ("64:ff9b::a00:1", .privateNetwork), ("64:ff9b::8.8.8.8", nil),
            // Not a mapped form (the ffff is elsewhere): an ordinary global-looking address.
            ("::1:ffff:127.0.0.1", nil),
        ]
        for (text, expected) in table { XCTAssertEqual(classify(text), .some(expected), text) }
    }

    func testIPv4SpellingsTheResolverAcceptsAreReadAsItReadsThem() {
        let table: [(String, String)] = [
            ("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"),
            ("0x7f000001", "127.0.0.1"), ("017700000001", "127.0.0.1"), ("127.0.1", "127.0.0.1"), ("0X7F.0.0.01", "127.0.0.1"),
            ("10.1", "10.0.0.1"), ("169.254.43518", "169.254.169.254"), ("0", "0.0.0.0"), ("3232235521", "192.168.0.1"),
            ("1.2.3.4", "1.2.3.4"),
        ]
        for (text, canonical) in table {
            XCTAssertEqual(IPAddress.parseLiteral(text)?.description, canonical, text)
        }
        for name in ["example.com", "127.0.0.1.example.com", "08.0.0.1", "1.2.3.4.5", "256.0.0.1", "127.0.0.1 x", "", "::ffff:1.2.3",
                     "fe80::1%eth0"] {
            XCTAssertNil(IPAddress.parseLiteral(name), name)
        }
        XCTAssertEqual(IPAddress.parseLiteral("::FFFF:127.0.0.1")?.description, "::ffff:127.0.0.1")
    }

    func testURLsWithControlCharactersSpacesUserInfoOrOddHostsAreRefused() {
        for byte in Array(0x00...0x20) + [0x7f] {
            let scalar = Character(Unicode.Scalar(UInt8(byte)))
            for url in ["http://example.com/a\(scalar)b", "http://exa\(scalar)mple.com/", "http://example.com/?q=\(scalar)"] {
                guard case let .failure(invalid) = OutboundURL.parse(url) else { XCTFail("accepted byte \(byte)"); continue }
                XCTAssertTrue(invalid.reason.contains("control characters"), invalid.reason)
            }
        }
        XCTAssertNil(OutboundURL("http://example.com/\r\nX-Injected: 1"))
        XCTAssertNil(OutboundURL("http://example.com/\u{85}"), "C1 control (NEL)")
        XCTAssertNil(OutboundURL("http://bücher.example/"), "not ASCII")
        let refused: [(String, String)] = [
            ("http://user:pw@example.com/", "user info"), ("http://example.com@10.0.0.1/", "user info"),
            ("http://@example.com/", "user info"), ("http://%31%32%37.0.0.1/", "invalid host name"),
            ("http://exa\\mple.com/", "invalid host name"), ("http://[fe80::1%25eth0]/", "IPv6"), ("http://[127.0.0.1]/", "IPv6"),
            ("http://[::1/", "unclosed"), ("http://[::1]x/", "after its IPv6"), ("http://127.0.0.1.5/", "IPv4"),
            ("http://08.0.0.1/", "IPv4"), ("http://256.1.1.1/", "IPv4"), ("http://x:+80/", "port"), ("http://x:/", "port"),
            ("http://.x/", "invalid host name"), ("http://a..b/", "invalid host name"), ("gopher://x/", "http://"),
            ("http://" + String(repeating: "a", count: 2100) + "/", "at most"),
        ]
        for (url, reason) in refused {
            guard case let .failure(invalid) = OutboundURL.parse(url) else { XCTFail("accepted \(url)"); continue }
            XCTAssertTrue(invalid.reason.contains(reason), "\(url): \(invalid.reason)")
        }
        XCTAssertEqual(OutboundURL("http://2130706433:8080/x")?.host, "2130706433", "odd IPv4 spellings parse (and are judged as addresses)")
        XCTAssertEqual(OutboundURL("http://hooks.example.com./x")?.host, "hooks.example.com.")
        XCTAssertEqual(OutboundURL("https://my_host-1.example.com/x")?.port, 443)
    }

    func testDestinationPolicyRefusesNonPublicLiteralsAndNamesButNotUnresolvableOnes() {
        let resolver = HostResolver(name: "table") { host in
            switch host {
            case "internal.example": return [IPAddress.parseLiteral("93.184.216.34")!, IPAddress.parseLiteral("10.1.2.3")!]
            case "public.example": return [IPAddress.parseLiteral("93.184.216.34")!, IPAddress.parseLiteral("2606:2800:220:1::1")!]
            case "metadata.example": return [IPAddress.parseLiteral("::ffff:169.254.169.254")!]
            default: throw OutboundHTTPError(.resolve, "no such host")
            }
        }
        let policy = DestinationPolicy(resolver: resolver, resolveTimeout: 2)
        func problem(_ url: String) -> String? { policy.problem(with: OutboundURL(url)!) }
        for url in ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:5432/", "http://[::1]:8080/", "http://10.0.0.1/",
                    "http://2130706433/", "http://0177.0.0.1/", "http://127.1/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
                    "http://[::]/", "http://[fe80::1]/", "http://[fd00::1]/", "http://100.64.0.1/", "http://172.16.0.1/",
                    "http://192.168.1.1/", "http://224.0.0.1/", "http://255.255.255.255/", "http://internal.example/",
                    "http://metadata.example/"] {
            XCTAssertNotNil(problem(url), url)
        }
        XCTAssertTrue(problem("http://127.0.0.1:5432/")?.contains("loopback") == true)
        XCTAssertTrue(problem("http://169.254.169.254/")?.contains("link-local") == true)
        XCTAssertTrue(problem("http://internal.example/")?.contains("resolves to a private address") == true, "any private address refuses")
        XCTAssertNil(problem("http://public.example/"))
        XCTAssertNil(problem("http://8.8.8.8/"))
        XCTAssertNil(problem("http://nowhere.example/"), "unresolvable now: checked again at delivery")
        XCTAssertNil(DestinationPolicy(allowPrivateNetworks: true, resolver: resolver).problem(with: OutboundURL("http://127.0.0.1/")!))
    }

    func testNameResolutionGivesUpAtTheDeadline() {
        let slow = HostResolver(name: "slow") { _ in Thread.sleep(forTimeInterval: 3); return [IPAddress.parseLiteral("8.8.8.8")!] }
        let started = Date()
        XCTAssertThrowsError(try slow.resolve("slow.example", deadline: Deadline(secondsFromNow: 0.2))) { error in
            XCTAssertEqual((error as? OutboundHTTPError)?.code, .resolve)
            XCTAssertTrue("\(error)".contains("within the connect timeout"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.5)
        let policy = DestinationPolicy(resolver: slow, resolveTimeout: 0.2)
        XCTAssertNil(policy.problem(with: OutboundURL("http://slow.example/")!), "a lookup that times out at creation is left to delivery")
        XCTAssertEqual(try HostResolver.system.resolve("0x7f.1", deadline: Deadline(secondsFromNow: 1)), [IPAddress.parseLiteral("127.0.0.1")!],
                       "literals never reach the resolver")
    }

    func testReceiverTextLosesControlCharactersAndIsCapped() {
        XCTAssertEqual(ReceiverText.sanitized("http://x/\r\nSet-Cookie: a\u{1b}[31m\u{7}\u{0}\u{85}\u{202e}ok\u{2028}", maxLength: 100),
                       "http://x/Set-Cookie: a[31mok")
        let long = ReceiverText.sanitized(String(repeating: "é", count: 1000), maxLength: 200)
        XCTAssertEqual(long.count, 200)
        XCTAssertTrue(long.hasSuffix("…"))
        XCTAssertEqual(ReceiverText.sanitized("plain text", maxLength: 10), "plain text")
        var parser = ResponseHeadParser()
        guard case let .invalid(reason) = parser.feed(Array("\u{1b}[2J\u{7}garbage\r\n\r\n".utf8)) else { return XCTFail() }
        XCTAssertFalse(reason.unicodeScalars.contains { $0.properties.generalCategory == .control }, reason)
    }
}
