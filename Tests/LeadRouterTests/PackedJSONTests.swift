import Foundation
import XCTest
@testable import LeadStore
import Postgres

/// `PackedJSON`: any document packs and unpacks to its exact bytes, damaged or unknown packed
/// bytes are an error (never a crash, never other bytes), and the dictionary makes the write
/// path's documents small.
final class PackedJSONTests: XCTestCase {
    func roundTrip(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let document = PostgresJSON(rawBytes: Array(text.utf8))
        let packed = PackedJSON.pack(document)
        XCTAssertEqual(packed.first, PackedJSON.current, file: file, line: line)
        XCTAssertEqual(try PackedJSON.unpack(packed), document, file: file, line: line)
    }

    func testDocumentsOfEveryShapeUnpackToTheirBytes() throws {
        try roundTrip("{}")
        try roundTrip("")
        try roundTrip(#"{"enter":"not lead.customer ✓ and count(x, 7d) is 1, >= 1 ✓","t":"\u0000\"\\/ é 😀"}"#)
        // Larger than the 8 KiB window and the dictionary together, and incompressible.
        var generator = SplitMix64(seed: 23)
        let noise = (0..<100_000).map { _ in String(UnicodeScalar(UInt8(0x21 + generator.next() % 90))) }.joined()
        try roundTrip(#"{"noise":""# + noise + #""}"#)
        try roundTrip(String(repeating: #"{"a":[1,2,3],"b":"xyz"},"#, count: 20_000))
    }

    func testTheDictionaryMakesADecisionAFractionOfItsJSON() throws {
        let decision = PackedJSONDictionary1.text.split(separator: "\n").last.map(String.init) ?? ""
        // Another lead's decision of the same shape: ids and times differ.
        let other = decision.replacingOccurrences(of: "00000000-0000-4000-8000-000000000000", with: UUID().uuidString.lowercased())
            .replacingOccurrences(of: "2026-12-07T02:31", with: "2027-03-14T18:02")
        let packed = PackedJSON.pack(PostgresJSON(rawBytes: Array(other.utf8)))
        XCTAssertLessThan(packed.count * 5, other.utf8.count, "\(packed.count) of \(other.utf8.count) bytes")
        XCTAssertEqual(try PackedJSON.unpack(packed).bytes, Array(other.utf8))
    }

    func testAnActionStatePacksToUnderHalfWithItsDictionary() throws {
        // Another pricing lead's state, and a viewer's: times and counts differ from the dictionary's.
        for state in [
            #"{"interest":{"at":"2027-03-14T18:02:11.075Z","categories":{},"products":{}},"sent":{"email":{"carried":[2930589762344498],"times":[1805061731075]},"sales":{"carried":[5020850807567455],"times":[1805061731075]}}}"#,
            #"{"interest":{"at":"2027-03-14T18:02:11.075Z","categories":{"running-shoes":1.9999993151872711},"products":{"rs-1":0.9999996575936356}}}"#,
        ] {
            let document = PostgresJSON(rawBytes: Array(state.utf8))
            let packed = PackedJSON.packActionState(document)
            XCTAssertEqual(packed.first, PackedJSON.actionState)
            // Less than half even where most bytes are the digits of counts and times (59 of 135 B).
            XCTAssertLessThan(packed.count * 2, state.utf8.count, "\(packed.count) of \(state.utf8.count) bytes")
            XCTAssertEqual(try PackedJSON.unpack(packed), document)
        }
        // Any document still round-trips with it.
        let odd = PostgresJSON(rawBytes: Array(#"{"timezone":"Asia/Kathmandu","x":[1,"\u0000é"]}"#.utf8))
        XCTAssertEqual(try PackedJSON.unpack(PackedJSON.packActionState(odd)), odd)
    }

    func testAStoredMessagePacksWithItsDictionaryAndAnyMessageRoundTrips() throws {
        // Another product view than the dictionary's: ids, price and category differ.
        let view = #"{"context":{},"event":"Product Viewed","messageId":"e-1-77-31337","name":"Product Viewed","properties":{"category":"tents","price":129,"product_id":"t-9"},"type":"track","userId":"b4410"}"#
        let packed = PackedJSON.packMessage(PostgresJSON(rawBytes: Array(view.utf8)))
        XCTAssertEqual(packed.first, PackedJSON.message)
        XCTAssertLessThan(packed.count * 3, view.utf8.count, "\(packed.count) of \(view.utf8.count) bytes")
        XCTAssertEqual(try PackedJSON.unpack(packed).bytes, Array(view.utf8))
        // Messages of any shape and size come back byte for byte.
        var generator = SplitMix64(seed: 95)
        let noise = (0..<20_000).map { _ in String(UnicodeScalar(UInt8(0x21 + generator.next() % 90))) }.joined()
        for message in [#"{}"#, #"{"traits":{"bio":""# + noise + #""},"type":"identify","userId":"ü\u0000"}"#] {
            let document = PostgresJSON(rawBytes: Array(message.utf8))
            XCTAssertEqual(try PackedJSON.unpack(PackedJSON.packMessage(document)), document)
        }
    }

    func testDamagedOrUnknownBytesAreAnErrorNotOtherBytes() throws {
        let packed = PackedJSON.pack(PostgresJSON(rawBytes: Array(#"{"segments":{"current":["a.b.c"]}}"#.utf8)))
        XCTAssertThrowsError(try PackedJSON.unpack([]))
        XCTAssertThrowsError(try PackedJSON.unpack([9] + packed.dropFirst()), "an unknown dictionary")
        XCTAssertThrowsError(try PackedJSON.unpack(Array(packed.dropLast(3))), "truncated")
        XCTAssertThrowsError(try PackedJSON.unpack([1, 0xff, 0xff, 0xff, 0xff]), "not deflate")
        XCTAssertEqual(try PackedJSON.unpack([0] + Array("{}".utf8)).bytes, Array("{}".utf8), "number 0 holds the bytes as they are")
    }

    /// One inflater reused from document to document (a backtest's page read) gives what a
    /// stream set up per document gives, for every dictionary and size, and goes on after a
    /// damaged document as if it had not seen it.
    func testOneInflaterForManyDocumentsGivesEachItsBytes() throws {
        let inflater = try XCTUnwrap(SmallDeflate.Inflater())
        var generator = SplitMix64(seed: 41)
        let noise = (0..<30_000).map { _ in String(UnicodeScalar(UInt8(0x21 + generator.next() % 90))) }.joined()
        let documents = [
            #"{"context":{"page":{"path":"/p/7"}},"messageId":"bulk-7","name":"Product Viewed","properties":{"category":"skincare-sets","price":7}}"#,
            #"{}"#, "", #"{"noise":""# + noise + #""}"#,
            #"{"interest":{"at":"2027-03-14T18:02:11.075Z","categories":{},"products":{}}}"#,
        ].map { PostgresJSON(rawBytes: Array($0.utf8)) }
        let damaged = PackedJSON.packMessage(documents[0]).dropLast(4)
        for round in 0..<3 {
            for document in documents {
                for packed in [PackedJSON.packMessage(document), PackedJSON.pack(document), PackedJSON.packActionState(document), [0] + document.bytes] {
                    let reused = try packed.withUnsafeBytes { try PackedJSON.unpack($0, with: inflater) }
                    XCTAssertEqual(reused, document, "round \(round)")
                    XCTAssertEqual(reused, try PackedJSON.unpack(packed))
                }
                XCTAssertThrowsError(try Array(damaged).withUnsafeBytes { try PackedJSON.unpack($0, with: inflater) }, "truncated")
                XCTAssertThrowsError(try [UInt8]([3, 0xff, 0xff, 0xff, 0xff]).withUnsafeBytes { try PackedJSON.unpack($0, with: inflater) })
            }
        }
    }
}
