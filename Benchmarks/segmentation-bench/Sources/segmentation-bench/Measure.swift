import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Counts allocation calls through the interposer that scripts/bench-segmentation.sh preloads
/// (`lr_malloc_count` in scripts/lib/malloc-count.c); nil when the benchmark runs without it.
enum MallocCounter {
    typealias CountFunction = @convention(c) () -> UInt64

    static let function: CountFunction? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "lr_malloc_count") else { return nil }
        return unsafeBitCast(symbol, to: CountFunction.self)
    }()

    static var available: Bool { function != nil }

    @inline(__always) static func count() -> UInt64 { function?() ?? 0 }
}

/// Per-call samples of one measured operation.
struct Samples {
    var nanoseconds: [UInt64] = []
    /// CPU time of this thread during the call: unlike wall time, not inflated when another
    /// process takes the core (the machine is shared), though caches still are.
    var cpuNanoseconds: [UInt64] = []
    var allocations: [UInt64] = []

    /// Times `body` and counts its allocations.
    @inline(__always)
    mutating func measure<T>(_ body: () -> T) -> T {
        let allocsBefore = MallocCounter.count()
        let cpuStart = threadCPUTime()
        let start = DispatchTime.now().uptimeNanoseconds
        let result = body()
        let end = DispatchTime.now().uptimeNanoseconds
        let cpuEnd = threadCPUTime()
        let allocsAfter = MallocCounter.count()
        nanoseconds.append(end - start)
        cpuNanoseconds.append(cpuEnd &- cpuStart)
        allocations.append(allocsAfter - allocsBefore)
        return result
    }

    func percentile(_ p: Double, of values: [UInt64]) -> UInt64 {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let index = min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))
        return sorted[index]
    }

    var p50: Double { Double(percentile(0.5, of: nanoseconds)) / 1_000 }
    var cpuP50: Double { Double(percentile(0.5, of: cpuNanoseconds)) / 1_000 }
    var p99: Double { Double(percentile(0.99, of: nanoseconds)) / 1_000 }
    var allocP50: UInt64 { percentile(0.5, of: allocations) }
    var allocMean: Double {
        allocations.isEmpty ? 0 : Double(allocations.reduce(0, +)) / Double(allocations.count)
    }
}

@inline(__always) func threadCPUTime() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// Prints aligned rows.
struct Table {
    var rows: [[String]] = []

    mutating func add(_ cells: String...) { rows.append(cells) }

    func render() -> String {
        let widths = (0..<(rows.map(\.count).max() ?? 0)).map { column in
            rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == 0 ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[index] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
