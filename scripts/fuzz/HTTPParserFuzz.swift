// libFuzzer target for HTTPRequestParser. Compiled by scripts/fuzz-http.sh together with the
// parser's own source files into one instrumented module (so it can read internals and so the
// normal `swift build` never sees fuzzer flags).
//
// Input layout: byte 0 picks limits and feeding, byte 1 seeds the split position and the body
// limit, the rest is the byte stream a client sent. Invariants checked (a violation traps):
//   • parsing never crashes (ASan + Swift runtime checks do the work);
//   • no request reports more body bytes than the limit in force (Content-Length and chunked);
//   • events come as head, body*, end per request; nothing follows an error;
//   • feeding whole, split in two at a data-derived position, and in small data-derived
//     pieces gives identical events (body pieces merged) and the identical error.

struct FuzzOutcome: Equatable {
    var events: [HTTPParserEvent] = []
    var error: HTTPParseError?
}

func runParser(_ pieces: [ArraySlice<UInt8>], limits: HTTPParserLimits, bodyLimit: Int?) -> FuzzOutcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = FuzzOutcome()
    var inMessage = false
    var bodyBytes = 0
    var limitInForce = limits.maxBodyBytes
    feeding: for piece in pieces {
        parser.append(Array(piece))
        while true {
            let event: HTTPParserEvent?
            do {
                event = try parser.next()
            } catch {
                outcome.error = error
                // The error is sticky: asking again must give it again, never an event.
                do {
                    _ = try parser.next()
                    fatalError("parser produced an event after an error")
                } catch let again {
                    precondition(again == error, "a failed parser changed its error")
                }
                break feeding
            }
            guard let event else { break }
            switch event {
            case .head:
                precondition(!inMessage, "head inside a message")
                inMessage = true
                bodyBytes = 0
                limitInForce = limits.maxBodyBytes
                if let bodyLimit {
                    parser.setBodyLimit(bodyLimit)
                    limitInForce = bodyLimit
                }
                precondition(!parser.isInHead, "isInHead after head")
            case .body(let bytes):
                precondition(inMessage && !bytes.isEmpty, "body outside a message or empty")
                bodyBytes += bytes.count
                precondition(bodyBytes <= limitInForce, "body longer than the limit")
            case .end:
                precondition(inMessage, "end outside a message")
                inMessage = false
            }
            if case .body(let b) = event, case .body(let previous)? = outcome.events.last {
                outcome.events[outcome.events.count - 1] = .body(previous + b)
            } else {
                outcome.events.append(event)
            }
        }
    }
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let control = data[0], seed = Int(data[1])
    let input = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))

    var limits = HTTPParserLimits()
    if control & 1 != 0 {  // tiny limits, so every limit path is reachable by short inputs
        limits.maxRequestLineBytes = 24
        limits.maxHeaderBytes = 64
        limits.maxHeaderFields = 3
        limits.maxBodyBytes = 16
        limits.maxChunkLineBytes = 12
        limits.maxLeadingEmptyLineBytes = 4
    }
    let bodyLimit: Int? = control & 2 != 0 ? seed % 40 : nil

    let whole = runParser([input[...]], limits: limits, bodyLimit: bodyLimit)
    let cut = input.isEmpty ? 0 : seed % (input.count + 1)
    let halves = runParser([input[..<cut], input[cut...]], limits: limits, bodyLimit: bodyLimit)
    precondition(halves == whole, "split at \(cut) differs from whole input")
    let step = Int(control >> 2) % 7 + 1
    let pieces = stride(from: 0, to: input.count, by: step).map { input[$0..<min($0 + step, input.count)] }
    let stepped = runParser(pieces, limits: limits, bodyLimit: bodyLimit)
    precondition(stepped == whole, "pieces of \(step) bytes differ from whole input")
    return 0
}
