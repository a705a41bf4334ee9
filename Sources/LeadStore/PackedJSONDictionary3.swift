/// The preset dictionary of `PackedJSON` number 3: stored messages (`events.message_packed`,
/// `EngineEventMapping.storedMessage`) in the shape `JSONWriter` gives them (sorted keys, no
/// spaces) — an identify with traits, a page view with a browser's context, then the two
/// messages of the sample ruleset's benchmark mix (a pricing request, a product view), the
/// commonest last (deflate codes nearer matches in fewer bits). It only makes messages smaller:
/// any document packs and unpacks exactly with it.
///
/// Never edit it: every message packed with number 3 needs these exact bytes to unpack. A better
/// dictionary is a new number beside this one (`PackedJSON.dictionaries`).
enum PackedJSONDictionary3 {
    static let text = #"""
{"anonymousId":"6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b","context":{"ip":"203.0.113.0","library":{"name":"analytics-node","version":"2.1.0"}},"messageId":"api-2b1c9d","name":"identify","properties":{},"traits":{"company":{"employees":250,"industry":"Software","name":"Acme Inc"},"country":"DE","email":"jane.doe@example.com","firstName":"Jane","lastName":"Doe","plan":"enterprise"},"type":"identify","userId":"user_12345"}
{"anonymousId":"6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b","context":{"campaign":{"medium":"cpc","name":"winter-sale","source":"google"},"ip":"203.0.113.0","library":{"name":"analytics.js","version":"next-1.70.0"},"locale":"en-US","page":{"path":"/pricing","referrer":"https://www.google.com/","search":"?utm_source=google","title":"Pricing","url":"https://www.example.com/pricing"},"timezone":"Europe/Berlin","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"},"messageId":"ajs-next-1733580000000-4f2a","name":"page_viewed","properties":{"name":"Pricing","path":"/pricing","referrer":"https://www.google.com/","title":"Pricing","url":"https://www.example.com/pricing"},"type":"page"}
{"context":{},"event":"Order Completed","messageId":"e-0-154-476747557","name":"Order Completed","properties":{"currency":"EUR","order_id":"o-1001","product_id":"p-42","revenue":129.9},"type":"track","userId":"b862"}
{"context":{},"event":"Pricing Requested","messageId":"p-new-0-90","name":"Pricing Requested","properties":{"plan":"team"},"type":"track","userId":"pnew-0-90"}
{"context":{},"event":"Product Viewed","messageId":"e-0-154-476747557","name":"Product Viewed","properties":{"category":"running-shoes","price":289,"product_id":"rs-1"},"type":"track","userId":"b862"}
"""#
}
