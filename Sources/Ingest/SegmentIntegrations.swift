import Segmentation

/// Segment's `integrations` object: which destinations a message is for. leadrouter is a
/// destination like any other, named `leadrouter` (any case). It is honoured, not enforced:
/// a message that is not for leadrouter is still validated and answered as usual (the SDK must
/// not retry it), but it is neither stored nor evaluated ("accepted and not applied").
enum SegmentIntegrations {
    /// Whether `integrations` addresses leadrouter: its own key decides when present (`false`
    /// is no; `true` or a settings object is yes); otherwise `All` does (absent means yes).
    static func addressLeadrouter(_ integrations: Value?) -> Bool {
        guard case .object(let map)? = integrations else { return true }
        if let own = map.first(where: { $0.key.lowercased() == "leadrouter" })?.value { return own != .bool(false) }
        if let all = map["All"] { return all != .bool(false) }
        return true
    }
}
