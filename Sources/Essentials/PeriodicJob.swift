/// A background loop on a thread of its own: run a tick, pause for the interval (unless the
/// tick asks to run again at once), repeat until stopped. The one implementation behind every
/// such loop (sweeper, queue upkeep, webhook dispatch and leasing, the connection pool's
/// reaper), so they share their start, stop, wake-up and timing semantics:
///
/// - `start(_:)` starts the thread (once); `stop()` makes it finish after the tick in progress
///   and waits for that (not when called from the tick itself, which would wait for itself);
///   `requestStop()` only asks, for a caller that has more to stop before it waits (`join()`).
/// - `wake()` cuts the current pause short; a wake during a tick skips the next pause.
/// - Each pause lasts `interval`, or a uniform random length in
///   `interval × (1 − jitter) … interval × (1 + jitter)` with `jitter` (0…1) set, so nodes
///   started together drift apart.
/// - The pause goes through a `Sleeper`: tests inject a `ManualSleeper` and move time by hand.
public final class PeriodicJob: @unchecked Sendable {
    /// What the loop does after a tick.
    public enum Next: Sendable {
        /// Pause for the interval (or until woken), then tick again.
        case pause
        /// Tick again at once (there is more to do), unless stopped.
        case runAgain
        /// End the loop, as if stopped.
        case finish
    }

    /// Thread name (visible in `top -H`).
    public let name: String
    /// Seconds between ticks.
    public let interval: Double
    /// Fraction of `interval` each pause may vary by, 0…1.
    public let jitter: Double
    private let sleeper: any Sleeper
    private let random: @Sendable () -> Double
    private let control = ConditionLocked(Control())
    private let thread = Locked<NativeThread?>(nil)

    /// Shared between the loop, `wake()`, `stop()` and the sleeper.
    public struct Control: Sendable {
        /// Set by `stop()`/`requestStop()`; ends the pause and the loop.
        public var stopping = false
        /// Set by `wake()`; ends the pause (cleared when a pause ends).
        public var woken = false
        var started = false
        /// Whether a pause should end now.
        public var interrupted: Bool { stopping || woken }
    }

    /// A job pausing `interval` seconds (± `jitter` × interval) between ticks through `sleeper`;
    /// `random` gives the jitter's uniform draw in 0..<1 (injectable for tests).
    public init(name: String, interval: Double, jitter: Double = 0, sleeper: any Sleeper = SystemSleeper(),
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.name = name
        self.interval = max(0, interval)
        self.jitter = min(1, max(0, jitter))
        self.sleeper = sleeper
        self.random = random
    }

    /// Starts the thread running `tick` in the loop (at most once). With `pauseFirst`, the
    /// loop pauses before its first tick.
    public func start(pauseFirst: Bool = false, _ tick: @escaping @Sendable () -> Next) {
        let first = control.withLock { c -> Bool in
            defer { c.started = true }
            return !c.started && !c.stopping
        }
        guard first else { return }
        // Stored under the lock it is read with, so a `join()` never misses a running thread.
        thread.withLock { $0 = NativeThread.start(name: name) { [self] in
            if pauseFirst { pause() }
            while !control.withLock({ $0.stopping }) {
                switch tick() {
                case .pause: pause()
                case .runAgain: continue
                case .finish: control.withLock { $0.stopping = true }
                }
            }
        } }
    }

    /// Ends the current pause (or the next one, when a tick is running).
    public func wake() {
        control.withLock { $0.woken = true }
        control.broadcast()
    }

    /// Asks the loop to end after the tick in progress; returns at once.
    public func requestStop() {
        control.withLock { $0.stopping = true }
        control.broadcast()
    }

    /// Waits until the loop has ended (at once when never started, or from the job's own thread).
    public func join() {
        guard let thread = thread.withLock({ $0 }), !thread.isCurrent else { return }
        thread.join()
    }

    /// `requestStop()`, then waits for the tick in progress and the thread to end.
    public func stop() {
        requestStop()
        join()
    }

    /// The length of the next pause.
    public func nextPause() -> Double {
        jitter == 0 ? interval : interval * (1 - jitter + 2 * jitter * random())
    }

    private func pause() {
        let seconds = nextPause()
        sleeper.sleep(seconds: seconds, control: control)
        control.withLock { $0.woken = false }
    }
}

/// How a `PeriodicJob` pauses: for up to `seconds`, ending early once `control`'s value is
/// `interrupted` (a `wake()` or stop broadcasts `control`).
public protocol Sleeper: Sendable {
    func sleep(seconds: Double, control: ConditionLocked<PeriodicJob.Control>)
}

/// Real time: a timed wait on the job's condition (monotonic clock).
public struct SystemSleeper: Sleeper {
    public init() {}

    public func sleep(seconds: Double, control: ConditionLocked<PeriodicJob.Control>) {
        control.withLock(when: { $0.interrupted }, timeout: seconds) { _, _ in }
    }
}

/// Time moved by hand, for tests: a pause ends when `advance(by:)` has moved the clock past
/// its end (or the job is woken or stopped). Share one between several jobs if need be.
public final class ManualSleeper: Sleeper, @unchecked Sendable {
    private struct Sleeping { let end: Double; let control: ConditionLocked<PeriodicJob.Control> }
    private let state = ConditionLocked((now: 0.0, sleeping: [ObjectIdentifier: Sleeping](), pauses: [Double]()))

    public init() {}

    /// Seconds moved so far.
    public var now: Double { state.withLock { $0.now } }
    /// Every pause length asked for so far, in order.
    public var pauses: [Double] { state.withLock { $0.pauses } }
    /// How many jobs are pausing right now.
    public var sleepingCount: Int { state.withLock { $0.sleeping.count } }

    public func sleep(seconds: Double, control: ConditionLocked<PeriodicJob.Control>) {
        let id = ObjectIdentifier(control)
        let end = state.withLock { s -> Double in
            s.pauses.append(seconds)
            s.sleeping[id] = Sleeping(end: s.now + seconds, control: control)
            return s.now + seconds
        }
        state.broadcast()
        control.withLock(when: { [state] c in c.interrupted || state.withLock { $0.now >= end } }) { _ in }
        state.withLock { _ = $0.sleeping.removeValue(forKey: id) }
        state.broadcast()
    }

    /// Moves the clock and ends the pauses that are over.
    public func advance(by seconds: Double) {
        let controls = state.withLock { s -> [ConditionLocked<PeriodicJob.Control>] in
            s.now += seconds
            return s.sleeping.values.map(\.control)
        }
        // Taking each job's lock before broadcasting: a sleeper between its check and its wait
        // holds that lock, so it cannot miss this wake-up.
        for control in controls {
            control.withLock { _ in }
            control.broadcast()
        }
    }

    /// Waits (real time, up to `timeout` seconds) until `count` jobs are pausing; false on timeout.
    @discardableResult
    public func waitForSleepers(_ count: Int, timeout: Double = 5) -> Bool {
        state.withLock(when: { $0.sleeping.count >= count }, timeout: timeout) { _, ok in ok }
    }
}
