import Postgres

/// A stored JSON document in few bytes: raw deflate with a preset dictionary of documents like
/// it, behind one byte naming the dictionary. Decisions and membership reasons are ~1.2 KB and
/// ~0.5 KB of JSON whose keys, segment names and rule texts repeat from row to row; PostgreSQL
/// compresses nothing under ~2 KB a row, and even then without a dictionary. Packed they take
/// ~0.1 KB (docs/benchmarks/storage.md). Lossless: a document unpacks to its exact bytes, so
/// what the API serves is what the engine produced at write time.
package enum PackedJSON {
    /// The dictionary new documents are packed with.
    static let current: UInt8 = 1

    /// The dictionary lead action states are packed with (`leads.action_packed`, migrations/0094):
    /// a state is ~150–300 B of jsonb whose keys and shapes repeat from lead to lead, and
    /// dictionary 1 (decisions) holds none of them.
    static let actionState: UInt8 = 2

    /// The dictionary stored messages are packed with (`events.message_packed`, migrations/0095):
    /// a message is ~210 B of jsonb whose keys and most values repeat from event to event.
    static let message: UInt8 = 3

    /// Every dictionary by its number; a number, once used, keeps its bytes forever.
    static let dictionaries: [UInt8: [UInt8]] = [
        1: Array(PackedJSONDictionary1.text.utf8),
        2: Array(PackedJSONDictionary2.text.utf8),
        3: Array(PackedJSONDictionary3.text.utf8),
    ]

    /// 2^13 = 8 KiB of window: the dictionary fits (a reader needs no more than this to unpack;
    /// zlib's 32 KiB default was a larger stream to copy per pack when zlib packed).
    static let windowBits: Int32 = 13

    /// Raised when stored bytes do not unpack (an unknown dictionary, damaged data).
    typealias Damaged = SmallDeflate.Damaged

    /// The packer of the current dictionary, made once (its hash chains are shared by every pack).
    /// Number 0 (a document as it is) is only read: rows of builds that could not start zlib.
    static let deflater = SmallDeflate(windowBits: windowBits, dictionary: dictionaries[current]!)

    /// Action states: 2^10 = 1 KiB of window holds the dictionary (~0.7 KB) and a state.
    static let actionStateDeflater = SmallDeflate(windowBits: 10, dictionary: dictionaries[actionState]!)

    /// Messages: 2^11 = 2 KiB of window holds the dictionary (~1.5 KB) and a message's start.
    static let messageDeflater = SmallDeflate(windowBits: 11, dictionary: dictionaries[message]!)

    /// `document` packed with the current dictionary.
    package static func pack(_ document: PostgresJSON) -> [UInt8] {
        deflater.pack(document.bytes, header: current)
    }

    /// A lead's action state packed with its dictionary (`actionState`); `unpack` reads it.
    package static func packActionState(_ document: PostgresJSON) -> [UInt8] {
        actionStateDeflater.pack(document.bytes, header: actionState)
    }

    /// A stored message packed with its dictionary (`message`); `unpack` reads it.
    package static func packMessage(_ document: PostgresJSON) -> [UInt8] {
        messageDeflater.pack(document.bytes, header: message)
    }

    /// The document `packed` holds, in the bytes it was packed from.
    package static func unpack(_ packed: [UInt8]) throws -> PostgresJSON {
        try packed.withUnsafeBytes { try unpack($0, with: nil) }
    }

    /// `unpack` with `inflater` (one reader's, reused from document to document) when given, else
    /// a stream set up for this document alone.
    static func unpack(_ packed: UnsafeRawBufferPointer, with inflater: SmallDeflate.Inflater?) throws -> PostgresJSON {
        guard let number = packed.first else { throw Damaged(description: "an empty packed document") }
        let rest = UnsafeRawBufferPointer(rebasing: packed.dropFirst())
        if number == 0 { return PostgresJSON(rawBytes: Array(rest)) }
        guard let dictionary = dictionaries[number] else { throw Damaged(description: "unknown packing dictionary \(number)") }
        if let inflater { return PostgresJSON(rawBytes: try inflater.unpack(rest, dictionary: dictionary)) }
        return PostgresJSON(rawBytes: try SmallDeflate.unpack(ArraySlice(rest), dictionary: dictionary))
    }
}
