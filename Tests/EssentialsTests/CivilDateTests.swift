import Essentials
import Foundation
import XCTest

final class CivilDateTests: XCTestCase {
    private static let daysPerMonth: [Int64] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

    /// Every day from 0000-01-01 to 9999-12-31, walked by hand: civil(days:) gives the next
    /// calendar day each time and days(year:month:day:) is its exact inverse.
    func testEveryDayFromYear0To9999RoundTrips() {
        var days = CivilDate.days(year: 0, month: 1, day: 1)
        XCTAssertEqual(days, -719_528)
        var weekday = CivilDate.weekday(days: days)
        var failures = 0
        for year: Int64 in 0...9999 {
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            for month: Int64 in 1...12 {
                let length = month == 2 && leap ? 29 : Self.daysPerMonth[Int(month) - 1]
                for day: Int64 in 1...length {
                    let civil = CivilDate.civil(days: days)
                    if civil != (year, month, day) || CivilDate.days(year: year, month: month, day: day) != days
                        || CivilDate.weekday(days: days) != weekday {
                        failures += 1
                        if failures < 10 { XCTFail("\(year)-\(month)-\(day) ~ day \(days) → \(civil)") }
                    }
                    days += 1
                    weekday = (weekday + 1) % 7
                }
            }
        }
        XCTAssertEqual(failures, 0)
        XCTAssertEqual(days, CivilDate.days(year: 10_000, month: 1, day: 1))
    }

    func testKnownDates() {
        XCTAssertEqual(CivilDate.days(year: 1970, month: 1, day: 1), 0)
        XCTAssertTrue(CivilDate.civil(days: -1) == (1969, 12, 31))
        XCTAssertTrue(CivilDate.civil(days: 11_016) == (2000, 2, 29))
        XCTAssertEqual(CivilDate.weekday(days: 0), 4)  // Thursday
        XCTAssertEqual(CivilDate.weekday(days: -4), 0)  // Sunday 1969-12-28
        XCTAssertEqual(CivilDate.weekday(days: -5), 6)
        XCTAssertTrue(CivilDate.civil(days: CivilDate.days(year: -400, month: 3, day: 1)) == (-400, 3, 1))
    }

    func testFloorDivide() {
        XCTAssertTrue(CivilDate.floorDivide(86_399, by: 86_400) == (0, 86_399))
        XCTAssertTrue(CivilDate.floorDivide(-1, by: 86_400) == (-1, 86_399))
        XCTAssertTrue(CivilDate.floorDivide(-86_400, by: 86_400) == (-1, 0))
        XCTAssertTrue(CivilDate.floorDivide(-86_401, by: 86_400) == (-2, 86_399))
        XCTAssertTrue(CivilDate.floorDivide(-1500, by: 1000) == (-2, 500))
    }

    /// Against Foundation's Gregorian calendar in UTC, for about 5000 instants between 1600 and
    /// 2400 (a step that is no whole number of days or years, so every field varies) and edges.
    func testAgreesWithFoundationCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let low = CivilDateTime.epochSeconds(year: 1600, month: 1, day: 1)
        let high = CivilDateTime.epochSeconds(year: 2400, month: 1, day: 1)
        var samples: [Int64] = [0, -1, 1, 86_399, 86_400, -86_400, 951_782_400, 4_107_542_399]
        samples += stride(from: low, to: high, by: Int((high - low) / 5000 + 12_347))
        for seconds in samples {
            let t = CivilDateTime(epochSeconds: seconds)
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday],
                                            from: Date(timeIntervalSince1970: Double(seconds)))
            XCTAssertEqual([t.year, t.month, t.day, t.hour, t.minute, t.second].map(Int.init),
                           [c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!], "\(seconds)")
            XCTAssertEqual(CivilDate.weekday(days: t.daysSinceEpoch) + 1, c.weekday!, "\(seconds)")
            XCTAssertEqual(CivilDateTime.epochSeconds(year: t.year, month: t.month, day: t.day, hour: t.hour,
                                                      minute: t.minute, second: t.second), seconds)
        }
    }

    func testISO8601AndPadding() {
        var out: [UInt8] = []
        CivilDateTime(epochSeconds: 784_111_777).appendISO8601(separator: UInt8(ascii: "T"), to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "1994-11-06T08:49:37")
        func padded(_ v: Int64, _ width: Int) -> String {
            var out: [UInt8] = []
            appendZeroPadded(v, width: width, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        for (v, width) in [(0, 2), (7, 2), (12, 2), (123, 2), (5, 4), (12_345, 4), (0, 6), (999, 6), (-1, 4), (-12_345, 4)] {
            let s = String(v)  // what the formats wrote before: zeros, then String(value)
            XCTAssertEqual(padded(Int64(v), width), String(repeating: "0", count: max(0, width - s.count)) + s)
        }
    }
}
