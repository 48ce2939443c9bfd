#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one allocation policy for sizes that come from a file or a flag: before effnet allocates a buffer whose
/// size it computed from untrusted numbers (a graph input's dims, a ConstantOfShape, a Pad, an `.npz` member,
/// `--batch`), it asks the budget, which refuses with an error naming what the buffer is for and its size.
///
/// The limit is process-wide (`MemoryBudget.limit`): the CLI sets it once from `--max-memory` before reading
/// anything; the default is half of physical memory, so that a refused size is reported instead of the process
/// being killed by the allocator or the OOM killer. Sizes are computed with checked arithmetic (`bytes(of:)`),
/// so an element count that overflows 64 bits is refused the same way.
public enum MemoryBudget {
    /// Fraction of physical memory allowed when `--max-memory` is not given.
    public static let defaultFraction = 0.5

    /// Bytes one buffer may take. Set once at startup (single-threaded), read everywhere.
    nonisolated(unsafe) public static var limit: Int = defaultLimit
    /// Whether `limit` came from a user's flag (the error then names the flag's value).
    nonisolated(unsafe) public static var fromFlag = false

    /// `defaultFraction` of the machine's physical memory (or 4 GiB when the system cannot tell).
    public static var defaultLimit: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return 4 << 30 }
        let (total, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? Int.max / 2 : Int(Double(total) * defaultFraction)
    }

    /// Element count × element size of `shape`, or nil when a dimension is negative or the product overflows.
    public static func bytes(of shape: [Int], elementSize: Int) -> Int? {
        var total = elementSize
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = p
        }
        return total
    }

    /// Checks that a buffer of `bytes` (nil: beyond 64 bits) fits the budget; `what` names it ("input 'x'
    /// [1, 3, 1048576, 1048576] float32", "--batch 100000").
    public static func check(_ bytes: Int?, for what: String) throws(MemoryBudgetError) {
        guard let bytes, bytes <= limit else {
            throw MemoryBudgetError(what: what, bytes: bytes, limit: limit, fromFlag: fromFlag)
        }
    }

    /// Checks a tensor of `shape` and `elementSize`-byte elements.
    public static func check(shape: [Int], elementSize: Int, for what: String) throws(MemoryBudgetError) {
        try check(bytes(of: shape, elementSize: elementSize), for: what)
    }

    /// Parses a `--max-memory` value: bytes, or a number with a K/M/G/T suffix (powers of 1024; `MB`, `GiB`
    /// accepted too). Nil when it is not a positive size.
    public static func parse(_ text: String) -> Int? {
        var s = text.uppercased()
        if s.hasSuffix("IB") { s.removeLast(2) } else if s.hasSuffix("B") { s.removeLast() }
        var scale = 1.0
        if let last = s.last, let k = Array("KMGT").firstIndex(of: last) {
            scale = Double(1 << (10 * (k + 1)))
            s.removeLast()
        }
        guard let value = Double(s), value.isFinite, value > 0 else { return nil }
        let bytes = value * scale
        guard bytes >= 1, bytes < 9.2e18 else { return nil }
        return Int(bytes)
    }

    /// A byte count in words: "12.0 TiB (13194139533312 bytes)".
    public static func describe(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes)
        var k = 0
        while value >= 1024 && k < units.count - 1 {
            value /= 1024
            k += 1
        }
        if k == 0 { return "\(bytes) bytes" }
        let rounded = (value * 10).rounded() / 10
        return "\(rounded) \(units[k]) (\(bytes) bytes)"
    }
}

/// A buffer the memory budget refused: what it was for, how big, and the limit.
public struct MemoryBudgetError: Error, CustomStringConvertible, Equatable, Sendable {
    public var what: String
    /// nil when the size does not fit in 64 bits.
    public var bytes: Int?
    public var limit: Int
    public var fromFlag: Bool

    public var description: String {
        let size = bytes.map { MemoryBudget.describe($0) } ?? "more than 2^63 bytes"
        let source = fromFlag ? "--max-memory" : "the default: half of physical memory; raise it with --max-memory"
        return "\(what) needs \(size), more than the memory budget of \(MemoryBudget.describe(limit)) (\(source))"
    }
}
