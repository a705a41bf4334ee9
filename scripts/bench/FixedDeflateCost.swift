// Packs a document REPS times with FixedHuffmanDeflate (scripts/bench-pack-cost.sh): usage
// fixed-deflate-cost DICTIONARY DOCUMENT WINDOW_BITS REPS; prints the sizes like packed-json-cost.c.
import Foundation

let arguments = CommandLine.arguments
let dictionary = [UInt8](FileManager.default.contents(atPath: arguments[1]) ?? Data())
let document = [UInt8](FileManager.default.contents(atPath: arguments[2]) ?? Data())
let encoder = FixedHuffmanDeflate(windowBits: Int(arguments[3]) ?? 15, dictionary: dictionary)
var packed: [UInt8] = []
for _ in 0..<(Int(arguments[4]) ?? 1) { packed = encoder.pack(document, header: [1]) }
print("\(document.count) -> \(packed.count) bytes")
