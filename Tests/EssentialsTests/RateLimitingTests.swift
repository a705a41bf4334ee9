import Essentials
import XCTest

final class TokenBucketTests: XCTestCase {
    func testBurstThenRefillAtRate() {
        var bucket = TokenBucket(limit: .init(rate: 10, burst: 3), now: 100)
        XCTAssertEqual(bucket.consume(now: 100), .allowed)
        XCTAssertEqual(bucket.consume(now: 100), .allowed)
        XCTAssertEqual(bucket.consume(now: 100), .allowed)
        // Empty: the next token comes after 1/rate seconds.
        guard case .limited(let wait) = bucket.consume(now: 100) else { return XCTFail("not limited") }
        XCTAssertEqual(wait, 0.1, accuracy: 1e-9)
        XCTAssertEqual(bucket.consume(now: 100).retryAfterSeconds, 1)  // rounded up, at least 1
        // Half a token later: still limited, for the other half.
        guard case .limited(let rest) = bucket.consume(now: 100.05) else { return XCTFail("not limited") }
        XCTAssertEqual(rest, 0.05, accuracy: 1e-9)
        XCTAssertEqual(bucket.consume(now: 100.1), .allowed)
        XCTAssertNotNil(bucket.consume(now: 100.1).retryAfterSeconds)
        // A long pause refills to the burst, not beyond.
        for _ in 0..<3 { XCTAssertEqual(bucket.consume(now: 200), .allowed) }
        XCTAssertNotEqual(bucket.consume(now: 200), .allowed)
    }

    func testRetryAfterRoundsUpWholeSeconds() {
        var slow = TokenBucket(limit: .init(rate: 0.4, burst: 1), now: 0)  // one token per 2.5 s
        XCTAssertEqual(slow.consume(now: 0), .allowed)
        XCTAssertEqual(slow.consume(now: 0).retryAfterSeconds, 3)
        XCTAssertEqual(slow.consume(now: 2).retryAfterSeconds, 1)  // 0.5 s left
        XCTAssertEqual(slow.consume(now: 2.5), .allowed)
        XCTAssertNil(TokenBucket.Outcome.allowed.retryAfterSeconds)
    }

    func testCheckDoesNotTakeATokenAndFullness() {
        var bucket = TokenBucket(limit: .init(rate: 1, burst: 2), now: 0)
        XCTAssertTrue(bucket.isFull(now: 0))
        XCTAssertEqual(bucket.check(now: 0), .allowed)
        XCTAssertEqual(bucket.consume(now: 0), .allowed)
        XCTAssertEqual(bucket.consume(now: 0), .allowed)
        XCTAssertFalse(bucket.isFull(now: 0))
        XCTAssertEqual(bucket.check(now: 0).retryAfterSeconds, 1)
        XCTAssertEqual(bucket.check(now: 0.5).retryAfterSeconds, 1)
        XCTAssertEqual(bucket.check(now: 1), .allowed)
        XCTAssertEqual(bucket.check(now: 1), .allowed)  // still there
        XCTAssertTrue(bucket.isFull(now: 2))
    }

    func testUnlimitedAndBackwardsClock() {
        var free = TokenBucket(limit: .unlimited, now: 0)
        for _ in 0..<10_000 { XCTAssertEqual(free.consume(now: 0), .allowed) }
        var bucket = TokenBucket(limit: .init(rate: 1, burst: 1), now: 10)
        XCTAssertEqual(bucket.consume(now: 10), .allowed)
        XCTAssertNotEqual(bucket.consume(now: 5), .allowed)  // earlier `now` refills nothing
        XCTAssertEqual(bucket.consume(now: 11), .allowed)
        XCTAssertEqual(TokenBucket.Limit(rate: -3, burst: 0), TokenBucket.Limit(rate: 0, burst: 1))
    }

    func testRateLimiterKeepsOneBucketPerKeyWithinItsBound() {
        let now = Locked(0.0)
        let limiter = RateLimiter<String>(limit: .init(rate: 1, burst: 2), maxTracked: 100, clock: { now.withLock { $0 } })
        XCTAssertEqual(limiter.consume("a"), .allowed)
        XCTAssertEqual(limiter.consume("a"), .allowed)
        XCTAssertEqual(limiter.consume("a").retryAfterSeconds, 1)
        XCTAssertEqual(limiter.check("a").retryAfterSeconds, 1)
        XCTAssertEqual(limiter.consume("b"), .allowed)  // its own bucket
        XCTAssertEqual(limiter.check("never-seen"), .allowed)
        XCTAssertEqual(limiter.trackedCount, 2)
        // A flood of distinct keys: memory stays bounded.
        for i in 0..<10_000 { _ = limiter.consume("k\(i)") }
        XCTAssertEqual(limiter.trackedCount, 100)
        now.withLock { $0 = 1 }
        XCTAssertEqual(limiter.consume("a"), .allowed)  // evicted: starts full again
    }
}

final class LRUCacheTests: XCTestCase {
    func testEvictsTheLeastRecentlyUsed() {
        var cache = LRUCache<String, Int>(capacity: 3)
        XCTAssertNil(cache.set(1, for: "a"))
        cache.set(2, for: "b")
        cache.set(3, for: "c")
        XCTAssertEqual(cache.value(for: "a"), 1)  // a is now the most recent
        let evicted = cache.set(4, for: "d")
        XCTAssertEqual(evicted?.key, "b")
        XCTAssertEqual(evicted?.value, 2)
        XCTAssertNil(cache.peek("b"))
        XCTAssertEqual(cache.keysByRecency, ["d", "a", "c"])
        XCTAssertEqual(cache.peek("c"), 3)  // peek does not count as a use
        cache.set(5, for: "e")
        XCTAssertNil(cache.peek("c"))
        XCTAssertEqual(cache.count, 3)
        cache.set(40, for: "d")  // update in place
        XCTAssertEqual(cache.keysByRecency, ["d", "e", "a"])
        XCTAssertEqual(cache.value(for: "d"), 40)
    }

    func testRemoveKeepsTheOrder() {
        var cache = LRUCache<Int, Int>(capacity: 5)
        for i in 0..<5 { cache.set(i * 10, for: i) }
        XCTAssertEqual(cache.removeValue(for: 0), 0)   // the tail
        XCTAssertEqual(cache.removeValue(for: 4), 40)  // the head
        XCTAssertEqual(cache.removeValue(for: 2), 20)  // the middle
        XCTAssertNil(cache.removeValue(for: 2))
        XCTAssertEqual(cache.keysByRecency, [3, 1])
        cache.set(50, for: 5)
        cache.set(60, for: 6)
        cache.set(70, for: 7)
        XCTAssertEqual(cache.keysByRecency, [7, 6, 5, 3, 1])
        cache.set(80, for: 8)
        XCTAssertEqual(cache.keysByRecency, [8, 7, 6, 5, 3])
        cache.removeAll()
        XCTAssertEqual(cache.count, 0)
        cache.set(1, for: 1)
        XCTAssertEqual(cache.keysByRecency, [1])
    }

    func testABusyKeySurvivesAFloodOfNewKeys() {
        var cache = LRUCache<Int, String>(capacity: 1000)
        cache.set("busy", for: -1)
        for i in 0..<200_000 {
            cache.set("x", for: i)
            if i % 500 == 0 { XCTAssertEqual(cache.value(for: -1), "busy", "evicted at \(i)") }
        }
        XCTAssertEqual(cache.count, 1000)
        XCTAssertEqual(cache.peek(-1), "busy")
    }

    func testMatchesAReferenceModel() {
        var generator = SystemRandomNumberGenerator()
        var cache = LRUCache<Int, Int>(capacity: 8)
        var reference: [(Int, Int)] = []  // most recent first
        for step in 0..<20_000 {
            let key = Int.random(in: 0..<20, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0:
                cache.set(step, for: key)
                reference.removeAll { $0.0 == key }
                reference.insert((key, step), at: 0)
                if reference.count > 8 { reference.removeLast() }
            case 1:
                let got = cache.value(for: key)
                if let i = reference.firstIndex(where: { $0.0 == key }) {
                    let entry = reference.remove(at: i)
                    reference.insert(entry, at: 0)
                    XCTAssertEqual(got, entry.1)
                } else { XCTAssertNil(got) }
            default:
                let got = cache.removeValue(for: key)
                let i = reference.firstIndex { $0.0 == key }
                XCTAssertEqual(got, i.map { reference[$0].1 })
                if let i { reference.remove(at: i) }
            }
            XCTAssertEqual(cache.keysByRecency, reference.map(\.0))
        }
    }
}
