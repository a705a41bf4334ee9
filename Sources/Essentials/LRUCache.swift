/// A dictionary with a fixed capacity that forgets its least recently used entry to make room.
///
/// A value type (put it behind a `Locked` to share it). `value(for:)` and `set` count as a use;
/// `peek` does not. Entries live in one array linked by indices (most recent at `head`), so a
/// full cache reuses the evicted slot: memory stays at `capacity` entries whatever is inserted.
/// Every operation is O(1).
public struct LRUCache<Key: Hashable, Value> {
    fileprivate struct Node {
        var key: Key
        var value: Value
        var newer: Int  // towards head; -1 at head
        var older: Int  // towards tail; -1 at tail
    }

    /// The most entries kept.
    public let capacity: Int
    private var nodes: [Node] = []
    private var slots: [Key: Int] = [:]
    private var head = -1  // most recently used
    private var tail = -1  // least recently used

    /// An empty cache holding at most `capacity` entries (at least 1).
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        slots.reserveCapacity(min(self.capacity, 1 << 16))
    }

    /// Entries held.
    public var count: Int { slots.count }

    /// The value for `key`, marking it most recently used.
    public mutating func value(for key: Key) -> Value? {
        guard let slot = slots[key] else { return nil }
        moveToHead(slot)
        return nodes[slot].value
    }

    /// The value for `key` without changing the order.
    public func peek(_ key: Key) -> Value? {
        slots[key].map { nodes[$0].value }
    }

    /// Stores `value` for `key` as the most recently used entry; when the cache is full and `key`
    /// is new, the least recently used entry is evicted and returned.
    @discardableResult
    public mutating func set(_ value: Value, for key: Key) -> (key: Key, value: Value)? {
        if let slot = slots[key] {
            nodes[slot].value = value
            moveToHead(slot)
            return nil
        }
        if nodes.count < capacity {
            nodes.append(Node(key: key, value: value, newer: -1, older: -1))
            let slot = nodes.count - 1
            slots[key] = slot
            linkAtHead(slot)
            return nil
        }
        // Full: reuse the least recently used slot.
        let slot = tail
        let evicted = (nodes[slot].key, nodes[slot].value)
        unlink(slot)
        slots[evicted.0] = nil
        nodes[slot].key = key
        nodes[slot].value = value
        slots[key] = slot
        linkAtHead(slot)
        return evicted
    }

    /// Forgets `key`; returns its value.
    @discardableResult
    public mutating func removeValue(for key: Key) -> Value? {
        guard let slot = slots.removeValue(forKey: key) else { return nil }
        let value = nodes[slot].value
        unlink(slot)
        // Keep the array dense: move the last node into the hole.
        let last = nodes.count - 1
        if slot != last {
            let moved = nodes[last]
            nodes[slot] = moved
            slots[moved.key] = slot
            if moved.newer >= 0 { nodes[moved.newer].older = slot } else { head = slot }
            if moved.older >= 0 { nodes[moved.older].newer = slot } else { tail = slot }
        }
        nodes.removeLast()
        return value
    }

    /// Forgets everything.
    public mutating func removeAll() {
        nodes.removeAll(); slots.removeAll(); head = -1; tail = -1
    }

    /// Keys from the most to the least recently used (for tests and diagnostics).
    public var keysByRecency: [Key] {
        var keys: [Key] = []
        keys.reserveCapacity(nodes.count)
        var slot = head
        while slot >= 0 { keys.append(nodes[slot].key); slot = nodes[slot].older }
        return keys
    }

    private mutating func moveToHead(_ slot: Int) {
        guard slot != head else { return }
        unlink(slot)
        linkAtHead(slot)
    }

    private mutating func unlink(_ slot: Int) {
        let newer = nodes[slot].newer, older = nodes[slot].older
        if newer >= 0 { nodes[newer].older = older } else { head = older }
        if older >= 0 { nodes[older].newer = newer } else { tail = newer }
        nodes[slot].newer = -1
        nodes[slot].older = -1
    }

    private mutating func linkAtHead(_ slot: Int) {
        nodes[slot].newer = -1
        nodes[slot].older = head
        if head >= 0 { nodes[head].newer = slot }
        head = slot
        if tail < 0 { tail = slot }
    }
}

extension LRUCache: Sendable where Key: Sendable, Value: Sendable {}
extension LRUCache.Node: Sendable where Key: Sendable, Value: Sendable {}
