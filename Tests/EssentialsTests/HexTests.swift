import Essentials
import XCTest

final class HexTests: XCTestCase {
    func testEncodeEveryByte() {
        let all = (0...255).map { UInt8($0) }
        let text = Hex.encode(all)
        XCTAssertEqual(text.count, 512)
        XCTAssertEqual(String(text.prefix(8)), "00010203")
        XCTAssertEqual(String(text.suffix(4)), "feff")
        XCTAssertEqual(text, all.map { String(format: "%02x", $0) }.joined())
        XCTAssertEqual(Hex.decode(text), all)
        XCTAssertEqual(Hex.decode(text.uppercased()), all)
    }

    func testDecodeRejectsOddLengthAndNonHex() {
        XCTAssertEqual(Hex.decode(""), [])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("0g"))
        XCTAssertNil(Hex.decode("zz"))
        XCTAssertNil(Hex.decode("é1"))
        XCTAssertEqual(Hex.decode(Array("0aFf".utf8).dropFirst(2)), [0xff])
    }

    func testDigitsAndValues() {
        for n in UInt8(0)...15 { XCTAssertEqual(Hex.value(Hex.digit(n)), n) }
        for c in UInt8(0)...255 {
            let expected = UInt8(String(UnicodeScalar(c)), radix: 16)
            XCTAssertEqual(Hex.value(c), c < 128 ? expected : nil, "\(c)")
        }
        var out: [UInt8] = []
        Hex.append(0x1f, to: &out)
        XCTAssertEqual(out, Array("1f".utf8))
    }
}
