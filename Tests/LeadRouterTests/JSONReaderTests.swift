import Foundation
import Segmentation
import XCTest
@testable import JSONCoding

/// `JSONReader` replaces `JSONDecoder` for request bodies: it must read what `JSONDecoder`
/// reads into the same `Value`, and refuse what it refuses.
final class JSONReaderTests: XCTestCase {
    func decoded(_ text: String) throws -> Value { try JSONDecoder().decode(Value.self, from: Data(text.utf8)) }

    func testReadsWhatJSONDecoderReads() throws {
        let documents = [
            #"{"userId":"u-1","event":"Product Viewed","properties":{"price":120,"n":-1.5e3,"z":0,"ok":true,"no":false,"x":null}}"#,
            " \n\t{ \"a\" : [ 1 , 2.25 , \"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\" , [ ] , { } ] }\r\n",
            #"{"nested":{"a":{"b":{"c":[0.1,1E2,1e-2,-0]}}},"empty":"","unicode":"é€😀","dup":1,"dup":2}"#, "[1,2,]", #"{"a":[1,],}"#,
            #"[1,"two",{"three":3}]"#, #""just a string""#, "42",
            // Repeated keys keep their first value at every depth; ASCII and non-ASCII strings side by side.
            #"{"o":{"k":"first","k":"second","é":"ü","k2":"\u00e9scaped"},"o":2,"tilde":"~"}"#,
        ]
        for text in documents {
            XCTAssertEqual(try JSONReader.parse(Array(text.utf8)), try decoded(text), text)
        }
    }

    /// Whole numbers of up to 15 digits are made from their digits (`number()`'s fast path): the
    /// same `Double` as `Double(_:)` of their text, bit for bit (the sign of zero too); longer
    /// ones, fractions and exponents still go through `Double(_:)`.
    func testWholeNumbersAreTheDoublesOfTheirText() throws {
        let texts = ["0", "-0", "7", "-12", "100", "999999999999999", "-999999999999999", "1000000000000000",
                     "9007199254740993", "-12345678901234567890", "5e0", "10.0", "-0.0", "0E3"]
        for text in texts {
            guard case .number(let n) = try JSONReader.parse(Array(text.utf8)) else { XCTFail(text); continue }
            XCTAssertEqual(n.bitPattern, Double(text)!.bitPattern, text)
        }
        for text in [#"{"a":12,"b":[3 ,-4,0],"c":5 ,"d":{"e":-0}}"#, "[1]", "[ 23 ]", "{\"n\":42\n}"] {
            XCTAssertEqual(try JSONReader.parse(Array(text.utf8)), try decoded(text), text)
        }
    }

    /// `parseObjectMembers` (a stored message's members without the top-level dictionary): the
    /// members `parse` reads, in document order, the first of a repeated key being the value
    /// `parse` keeps; nil for a value that is not an object; what `parse` refuses, refused.
    func testObjectMembersAreWhatParseReads() throws {
        let objects = [
            #"{"name":"Product Viewed","messageId":"m-1","properties":{"price":12,"k":"a","k":"b"},"context":{"page":{"path":"/p/1"}}}"#,
            #" { "name" : "first", "extra" : [1, {"a": null}], "name" : "second" , "context": null } "#, "{}", "{ }",
        ]
        for text in objects {
            guard case .object(let fields) = try JSONReader.parse(Array(text.utf8)),
                  let members = try JSONReader.parseObjectMembers(Array(text.utf8)) else { XCTFail(text); continue }
            var firsts: [String: Value] = [:]
            for (key, value) in members where firsts[key] == nil { firsts[key] = value }
            XCTAssertEqual(firsts, fields, text)
        }
        let order = try XCTUnwrap(JSONReader.parseObjectMembers(Array(#"{"b":1,"a":2,"b":3}"#.utf8)))
        XCTAssertEqual(order.map(\.key), ["b", "a", "b"])
        XCTAssertEqual(order.map(\.value), [.number(1), .number(2), .number(3)])
        for text in ["[1]", "\"text\"", "42", "null"] { XCTAssertNil(try JSONReader.parseObjectMembers(Array(text.utf8)), text) }
        for text in ["", "{", "{\"a\":}", "{} extra", "{,}", "{\"a\":1,\"b\"}", "[1] x"] {
            XCTAssertThrowsError(try JSONReader.parseObjectMembers(Array(text.utf8)), text)
            XCTAssertThrowsError(try JSONReader.parse(Array(text.utf8)), text)
        }
    }

    func testRefusesWhatJSONDecoderRefuses() {
        let invalid = ["", "{", "{\"a\":}", "{\"a\" 1}", "[,]", "[1,,]", "{,}", "01", "1.", ".5", "-", "+1", "1e", "tru", "nul",
                       "\"unterminated", "\"bad \\x escape\"", "\"ctrl \u{1} char\"", "\"\\ud800 lone\"", "{} extra", "{'a':1}",
                       "NaN", "[1e999]"]
        for text in invalid {
            XCTAssertThrowsError(try JSONReader.parse(Array(text.utf8)), text)
            XCTAssertThrowsError(try decoded(text), "JSONDecoder accepts \(text)")
        }
        XCTAssertThrowsError(try JSONReader.parse([0x22, 0xFF, 0xFE, 0x22]), "invalid UTF-8")
        // After an ASCII start (a truncated two-byte sequence, a lone continuation byte, an overlong '/'):
        // the fast path for all-ASCII strings must not take these.
        for bytes: [UInt8] in [[0x22, 0x61, 0x62, 0xC3, 0x22], [0x7B, 0x22, 0x6B, 0x80, 0x22, 0x3A, 0x31, 0x7D], [0x22, 0x61, 0xC0, 0xAF, 0x22]] {
            XCTAssertThrowsError(try JSONReader.parse(bytes), "invalid UTF-8: \(bytes)")
        }
        XCTAssertThrowsError(try JSONReader.parse(Array(String(repeating: "[", count: 600).utf8) + Array(String(repeating: "]", count: 600).utf8)))
    }
}
