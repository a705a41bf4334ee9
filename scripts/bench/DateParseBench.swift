import Foundation

/// `InternetDateTime.parse` (Essentials) against `ISO8601DateFormatter` on the date-time shapes
/// tracking SDKs send, alternating rounds; prints one line per shape and parser:
/// `<parser> <shape> <ns per parse>`. Built by scripts/bench-dates.sh straight from the source file.
@main
enum DateParseBench {
    static let shapes: [(String, String)] = [
        ("js-millis-Z", "2026-11-18T11:05:59.904Z"),
        ("python-micros-offset", "2026-11-18T11:05:59.904123+00:00"),
        ("go-nanos-offset", "2026-11-18T12:05:59.123456789+01:00"),
        ("seconds-Z", "2026-11-18T11:05:59Z"),
    ]

    static func main() {
        let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200_000 : 200_000
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        for (name, text) in shapes {
            var sink: Int64 = 0
            var start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<count { sink &+= InternetDateTime.parse(text)?.milliseconds ?? 0 }
            let ours = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(count)
            // A formatter per value costs some 100 µs: a hundredth of the rounds says enough.
            let fewer = max(count / 100, 100)
            start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<fewer {
                // What ingest did before: one formatter per value, the fractional shape first.
                let f = ISO8601DateFormatter()
                f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                let date = f.date(from: text) ?? plain.date(from: text)
                sink &+= Int64(date?.timeIntervalSince1970 ?? 0)
            }
            let perValue = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(fewer)
            start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<count {
                let date = formatter.date(from: text) ?? plain.date(from: text)
                sink &+= Int64(date?.timeIntervalSince1970 ?? 0)
            }
            let shared = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(count)
            print("InternetDateTime \(name) \(String(format: "%.1f", ours))")
            print("formatter-per-value \(name) \(String(format: "%.1f", perValue))")
            print("formatter-shared \(name) \(String(format: "%.1f", shared))")
            if sink == 42 { print("") }
        }
    }
}
