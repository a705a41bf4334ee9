import Yams

/// `routing:`: which channels act for every current segment rather than only the primary one.
extension RulesetLoader {
    /// Channels that may be listed in `routing.all_segments`. Sales is not one of them: a lead is
    /// worked from one queue by one owner, so sales always follows the primary segment.
    static let allSegmentChannels = ["email", "ads"]

    func loadRouting(_ n: Node?) -> Routing {
        guard let n, let m = y.mapping(n, "`routing`", allowed: ["all_segments"]) else { return Routing(allSegments: []) }
        var channels: [String] = []
        for (_, _, value) in m {
            for item in y.sequence(value, "`routing.all_segments`") ?? [] {
                guard let channel = y.string(item, "a channel in `routing.all_segments`") else { continue }
                if channel == "sales" {
                    sink.error(y.loc(item), "`sales` cannot act for every segment: a lead is worked from one sales queue by one owner, so sales follows the primary segment only; list email or ads")
                } else if !RulesetLoader.allSegmentChannels.contains(channel) {
                    sink.error(y.loc(item), "unknown channel `\(channel)` in `routing.all_segments`\(didYouMean(channel, RulesetLoader.allSegmentChannels)); it can list email and ads")
                } else if !channels.contains(channel) {
                    channels.append(channel)
                }
            }
        }
        return Routing(allSegments: channels.sorted())
    }
}
