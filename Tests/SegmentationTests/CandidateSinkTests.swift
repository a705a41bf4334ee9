import XCTest
@testable import Segmentation

/// `next_evaluation_at`'s candidates: appended to a stack buffer and, past its capacity, an array;
/// the heap gives them all back earliest first either way.
final class CandidateSinkTests: XCTestCase {
    func popped(capacity: Int, _ times: [Int64]) -> [Int64] {
        withUnsafeTemporaryAllocation(of: Engine.Candidate.self, capacity: capacity) { buffer in
            var sink = Engine.CandidateSink(buffer)
            for (k, t) in times.enumerated() { sink.append(Engine.Candidate(time: t, rule: k)) }
            return sink.withHeap { heap in
                var heap = heap, out: [Int64] = []
                while let t = heap.minTime { XCTAssertEqual(heap.popMin().time, t); out.append(t) }
                return out
            }
        }
    }

    func testCandidatesComeOutInOrderWithinTheBuffer() {
        XCTAssertEqual(popped(capacity: 8, [5, 3, 9, 1, 3]), [1, 3, 3, 5, 9])
        XCTAssertEqual(popped(capacity: 8, []), [])
    }

    func testCandidatesPastTheBufferSpillAndStillComeOutInOrder() {
        let times: [Int64] = [40, 7, 19, 2, 33, 7, 100, 1, 64, 5]
        XCTAssertEqual(popped(capacity: 3, times), times.sorted())
        XCTAssertEqual(popped(capacity: 1, times), times.sorted())
    }
}
