import Essentials
import Glibc
import XCTest

/// `NativeThread.lowerCurrentPriority`: only the calling thread becomes nicer (Linux keeps the
/// value per thread), so a backtest's replay threads yield to request handling, not the process.
final class NativeThreadPriorityTests: XCTestCase {
    func testLowersOnlyTheCallingThread() {
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        let before = getpriority(which, 0)
        let seen = Locked<Int32?>(nil)
        let thread = NativeThread.start(name: "lr-test-nice") {
            NativeThread.lowerCurrentPriority(by: 3)
            seen.withLock { $0 = getpriority(which, 0) }
        }
        thread.join()
        XCTAssertEqual(seen.withLock { $0 }, min(19, before + 3))
        XCTAssertEqual(getpriority(which, 0), before, "the caller's thread keeps its priority")
    }
}
