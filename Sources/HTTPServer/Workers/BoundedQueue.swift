/// A fixed-capacity FIFO ring: the worker pool's queue. Pushing into a full queue fails instead
/// of growing, which is what turns overload into a `503` rather than unbounded memory and latency.
struct BoundedQueue<Element> {
    private var storage: [Element?]
    private var head = 0
    private(set) var count = 0

    /// A queue holding at most `capacity` elements (at least one).
    init(capacity: Int) {
        storage = Array(repeating: nil, count: max(1, capacity))
    }

    var capacity: Int { storage.count }
    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == storage.count }

    /// Appends `element`; returns false (and drops nothing) when the queue is full.
    mutating func push(_ element: Element) -> Bool {
        guard !isFull else { return false }
        storage[(head + count) % storage.count] = element
        count += 1
        return true
    }

    /// Removes and returns the oldest element.
    mutating func pop() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }
}
