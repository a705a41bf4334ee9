import Essentials
import LeadStore

/// A lane's position: how many messages it had been given (or has finished).
struct LaneMark: Sendable, Equatable {
    var lane: Int
    var count: Int
}

/// Chooses each message's lane so that every message of one person keeps its arrival order.
///
/// Hashing a message's first identity key was not enough: a visitor's anonymous page views
/// (`anonymousId` only) and their messages after login (`userId` first) went to different lanes,
/// so a page view sent before a demo request could be applied after it. Here every identity key
/// remembers the lane its last message took; a message follows the lane of its first key that
/// has one (else the hash of its first key), and all its keys move to that lane — so once a
/// message ties an anonymous id to a user id, both keep to one lane. When a message's keys
/// were on different lanes (the tie itself: a login on a new device), it also carries, for each
/// other lane, how many messages that lane had been given: its lane waits until those are
/// applied before applying it, so nothing of the person sent earlier is applied later.
///
/// Kept per node, in memory, for the `capacity` most recently seen keys: a key forgotten (or
/// tied on another node) falls back to its hash, and order is then kept per key — the
/// database's per-key advisory locks still serialise the writes themselves.
struct LaneRouting {
    private var laneOfKey: LRUCache<IdentityKey, Int>
    /// Messages given to each lane so far.
    private(set) var given: [Int]

    init(lanes: Int, capacity: Int = 200_000) {
        laneOfKey = LRUCache(capacity: capacity)
        given = Array(repeating: 0, count: max(1, lanes))
    }

    /// The lane a message with `keys` (in resolution order) would take now.
    func lane(for keys: [IdentityKey]) -> Int {
        for key in keys { if let lane = laneOfKey.peek(key) { return lane } }
        guard let key = keys.first else { return 0 }
        return Int(UInt64(bitPattern: key.hash) % UInt64(given.count))
    }

    /// Routes one message: its lane, its number in that lane, and the other lanes' marks it
    /// must wait for (empty unless its keys were on different lanes).
    mutating func route(_ keys: [IdentityKey]) -> (lane: Int, number: Int, after: [LaneMark]) {
        let lane = lane(for: keys)
        var after: [LaneMark] = []
        for key in keys {
            if let other = laneOfKey.peek(key), other != lane, !after.contains(where: { $0.lane == other }) {
                after.append(LaneMark(lane: other, count: given[other]))
            }
        }
        for key in keys { _ = laneOfKey.set(lane, for: key) }
        given[lane] += 1
        return (lane, given[lane], after)
    }
}
