/// The preset dictionary of `PackedJSON` number 2: lead action states (`leads.action_packed`,
/// `LeadJSON.actionState`) in the shape `JSONWriter` gives them — interest counts, segment
/// scores, sent logs and a time zone, then the two states the sample ruleset's benchmark mix
/// leaves most (a product viewer's interest; a pricing request's email and sales sends), the
/// commonest last (deflate codes nearer matches in fewer bits). It only makes states smaller:
/// any document packs and unpacks exactly with it, whatever its ruleset.
///
/// Never edit it: every state packed with number 2 needs these exact bytes to unpack. A better
/// dictionary is a new number beside this one (`PackedJSON.dictionaries`).
enum PackedJSONDictionary2 {
    static let text = #"""
{"interest":{"at":"2026-12-07T14:12:49.807Z","categories":{"stoves":1.9999999914044246,"tents":0.9999999707750447},"products":{"s-2":0.9999999936965782,"tents-1":1.9999999810897346}},"segment_scores":{"consideration.mid-intent.running-shoes":{"at":1796652762864,"parts":{"r3516b47f369561dc":2.99999999656177},"score":2.99999999656177}},"sent":{"ads":{"carried":[],"times":[1796652762864]}},"timezone":"America/New_York"}
{"interest":{"at":"2026-12-07T14:12:42.864Z","categories":{},"products":{}},"sent":{"email":{"carried":[2930589762344498],"times":[1796652762864]},"sales":{"carried":[5020850807567455],"times":[1796652762864]}}}
{"interest":{"at":"2026-12-07T14:12:47.844Z","categories":{"running-shoes":0.9999999988539233},"products":{}}}
"""#
}
