/// Makes request ids (`X-Request-Id`): the client's own when it sent a sane one, otherwise a
/// fresh one. One generator per event loop (used only on that loop's thread), so ids come from a
/// counter under a random per-loop prefix: unique without locks or a random draw per request.
final class RequestIDGenerator {
    private let prefix: String
    private var counter: UInt64 = 0

    init() {
        var rng = SystemRandomNumberGenerator()
        let raw = String(rng.next() as UInt64, radix: 16)
        prefix = String(repeating: "0", count: 16 - raw.count) + raw
    }

    /// A new id, e.g. `3f9c0a1b2c3d4e5f-1a`.
    func next() -> String {
        counter &+= 1
        return prefix + "-" + String(counter, radix: 16)
    }

    /// The client's id when it is 1–128 visible ASCII characters, else a new one.
    func id(echoing candidate: String?) -> String {
        if let candidate, Self.acceptable(candidate) { return candidate }
        return next()
    }

    static func acceptable(_ value: String) -> Bool {
        let utf8 = value.utf8
        return (1...128).contains(utf8.count) && utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }
}
