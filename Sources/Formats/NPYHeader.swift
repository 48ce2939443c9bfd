import IR

/// The parsed header dict of a `.npy` array: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
///
/// numpy reads this dict with `ast.literal_eval`; here a small parser of the same Python-literal subset does it
/// (strings, integers with an optional Python 2 `L`, `True`/`False`/`None`, tuples, lists, dicts), so headers
/// written by any numpy version, including Python 2's `(3L, 4L)`, are read exactly, and anything else is refused.
struct NPYHeader: Equatable {
    var dtype: DType
    /// The file stores elements big-endian (`>f4`); the reader swaps them.
    var bigEndian: Bool
    /// The file stores elements in Fortran (column-major) order; the reader transposes them to C order.
    var fortranOrder: Bool
    var shape: [Int]

    /// Element count and byte count, or nil when their product overflows `Int`.
    var byteCount: Int? {
        var n = dtype.byteSize
        for d in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }

    /// Parses the header dict text of array `name` (errors carry no file; the caller adds it).
    static func parse(_ text: String, name: String) throws -> NPYHeader {
        func bad(_ detail: String) -> NPZError { .badHeader(file: "", member: name, detail: detail) }
        let literal: PythonLiteral
        do {
            literal = try PythonLiteralParser.parse(text)
        } catch {
            throw bad("\(error.message) in \(PythonLiteral.string(Self.clipped(text)).repr)")
        }
        guard case .dict(let pairs) = literal else { throw bad("not a dict: \(Self.clipped(literal.repr))") }
        var entries: [String: PythonLiteral] = [:]
        for pair in pairs {
            guard case .string(let k) = pair.key else { throw bad("non-string key \(pair.key.repr)") }
            entries[k] = pair.value
        }
        guard Set(entries.keys) == ["descr", "fortran_order", "shape"] else {
            throw bad("keys are \(entries.keys.sorted()), expected ['descr', 'fortran_order', 'shape']")
        }
        guard case .bool(let fortran) = entries["fortran_order"]! else {
            throw bad("fortran_order is \(entries["fortran_order"]!.repr), not True or False")
        }
        guard case .tuple(let dims) = entries["shape"]! else {
            throw bad("shape is \(Self.clipped(entries["shape"]!.repr)), not a tuple")
        }
        var shape: [Int] = []
        for d in dims {
            guard case .int(let v) = d, v >= 0 else {
                throw bad("shape \(Self.clipped(entries["shape"]!.repr)) holds \(d.repr), not a size")
            }
            shape.append(v)
        }
        let (dtype, bigEndian) = try Self.dtype(of: entries["descr"]!, name: name)
        let header = NPYHeader(dtype: dtype, bigEndian: bigEndian, fortranOrder: fortran, shape: shape)
        guard header.byteCount != nil else { throw bad("shape \(Self.clipped(entries["shape"]!.repr)) is too large") }
        return header
    }

    /// Maps a numpy type string (`<f4`, `>i8`, `|b1`, …) to a dtype and byte order.
    static func dtype(of descr: PythonLiteral, name: String) throws -> (DType, bigEndian: Bool) {
        guard case .string(let s) = descr else {
            // A list descr is a structured (record) dtype.
            throw NPZError.unsupportedDType(file: "", member: name, descr: "\(Self.clipped(descr.repr)) (structured)")
        }
        var code = Substring(s)
        var order: Character = "="
        if let first = code.first, "<>|=".contains(first) {
            order = first
            code = code.dropFirst()
        }
        if code == "O" || code.hasPrefix("O") {
            throw NPZError.pickle(file: "", member: name)
        }
        let table: [Substring: DType] = [
            "f2": .float16, "f4": .float32, "f8": .float64, "i1": .int8, "i2": .int16, "i4": .int32,
            "i8": .int64, "u1": .uint8, "b1": .bool, "?": .bool, "e": .float16, "f": .float32, "d": .float64,
            "b": .int8, "h": .int16, "B": .uint8,
        ]
        guard let dtype = table[code] else {
            throw NPZError.unsupportedDType(file: "", member: name, descr: PythonLiteral.string(s).repr)
        }
        // '>' only matters for multi-byte types; '|' and '=' mean "not applicable" and "native" (little).
        return (dtype, order == ">" && dtype.byteSize > 1)
    }

    /// numpy's descr for a dtype, little-endian (`|` for one-byte types).
    static func descr(of dtype: DType) -> String {
        switch dtype {
        case .float16: "<f2"
        case .float32, .bfloat16: "<f4"
        case .float64: "<f8"
        case .int8: "|i1"
        case .int16: "<i2"
        case .int32: "<i4"
        case .int64: "<i8"
        case .uint8: "|u1"
        case .bool: "|b1"
        }
    }

    /// At most 80 characters of `s`, for error messages about hostile headers.
    static func clipped(_ s: String) -> String {
        s.count <= 80 ? s : String(s.prefix(77)) + "..."
    }
}

/// A value of the Python-literal subset found in `.npy` headers.
indirect enum PythonLiteral: Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([Pair])

    struct Pair: Equatable {
        var key: PythonLiteral
        var value: PythonLiteral
    }

    /// Python's `repr` of the value (close enough for messages: strings single-quoted, tuples with `,`).
    var repr: String {
        switch self {
        case .string(let s):
            var out = "'"
            for c in s.unicodeScalars {
                switch c {
                case "'": out += "\\'"
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case _ where c.value < 0x20 || c.value == 0x7f:
                    out += "\\x" + (c.value < 16 ? "0" : "") + String(c.value, radix: 16)
                default: out.unicodeScalars.append(c)
                }
            }
            return out + "'"
        case .int(let v): return String(v)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .tuple(let items):
            return "(" + items.map(\.repr).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .list(let items): return "[" + items.map(\.repr).joined(separator: ", ") + "]"
        case .dict(let pairs):
            return "{" + pairs.map { "\($0.key.repr): \($0.value.repr)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A recursive-descent parser for `PythonLiteral`, with a nesting limit so that hostile input such as
/// `((((…` cannot exhaust the stack.
struct PythonLiteralParser {
    struct Failure: Error {
        let message: String
    }

    private let s: [Unicode.Scalar]
    private var i = 0
    private var depth = 0
    private static let maxDepth = 32

    static func parse(_ text: String) throws(Failure) -> PythonLiteral {
        var p = PythonLiteralParser(s: Array(text.unicodeScalars))
        let value = try p.value()
        p.skipSpace()
        guard p.i == p.s.count else { throw p.fail("unexpected text after the value") }
        return value
    }

    private init(s: [Unicode.Scalar]) { self.s = s }

    private func fail(_ what: String) -> Failure {
        Failure(message: "\(what) at character \(i)")
    }

    private mutating func skipSpace() {
        while i < s.count, s[i] == " " || s[i] == "\t" || s[i] == "\n" || s[i] == "\r" { i += 1 }
    }

    private mutating func value() throws(Failure) -> PythonLiteral {
        skipSpace()
        guard i < s.count else { throw fail("unexpected end") }
        // Python 2 headers may spell strings u'…'.
        if "uUbB".unicodeScalars.contains(s[i]), i + 1 < s.count, s[i + 1] == "'" || s[i + 1] == "\"" { i += 1 }
        switch s[i] {
        case "{": return try container(close: "}") { .dict($0.pairs) }
        case "[": return try container(close: "]") { .list($0.items) }
        case "(":
            return try container(close: ")") { c in
                // `(x)` is x itself; `(x,)` and `()` are tuples.
                c.items.count == 1 && !c.trailingComma ? c.items[0] : .tuple(c.items)
            }
        case "'", "\"": return .string(try string())
        case "-", "0"..."9": return .int(try integer())
        default:
            let start = i
            while i < s.count, s[i].properties.isAlphabetic || s[i] == "_" { i += 1 }
            switch String(String.UnicodeScalarView(s[start..<i])) {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default:
                i = start
                throw fail("unexpected '\(Character(s[i]))'")
            }
        }
    }

    private struct Contents {
        var items: [PythonLiteral] = []
        var pairs: [PythonLiteral.Pair] = []
        var trailingComma = false
    }

    /// Parses `open item, item, … close` (dict items are `key: value`), trailing comma allowed.
    private mutating func container(
        close: Unicode.Scalar, _ make: (Contents) -> PythonLiteral
    ) throws(Failure) -> PythonLiteral {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw fail("nested too deeply") }
        let isDict = close == "}"
        i += 1
        var c = Contents()
        while true {
            skipSpace()
            guard i < s.count else { throw fail("unexpected end, expected '\(Character(close))'") }
            if s[i] == close {
                i += 1
                return make(c)
            }
            let first = try value()
            if isDict {
                skipSpace()
                guard i < s.count, s[i] == ":" else { throw fail("expected ':'") }
                i += 1
                c.pairs.append(.init(key: first, value: try value()))
            } else {
                c.items.append(first)
            }
            skipSpace()
            c.trailingComma = false
            if i < s.count, s[i] == "," {
                i += 1
                c.trailingComma = true
            } else if i < s.count, s[i] != close {
                throw fail("expected ',' or '\(Character(close))'")
            }
        }
    }

    /// A quoted string with the common escapes (`\\ \' \" \n \t \r \0 \xHH \uHHHH`).
    private mutating func string() throws(Failure) -> String {
        let quote = s[i]
        i += 1
        var out = String.UnicodeScalarView()
        while i < s.count {
            let c = s[i]
            i += 1
            if c == quote { return String(out) }
            if c == "\n" { break }
            guard c == "\\" else {
                out.append(c)
                continue
            }
            guard i < s.count else { break }
            let e = s[i]
            i += 1
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "0": out.append("\0")
            case "x", "u":
                let n = e == "x" ? 2 : 4
                guard i + n <= s.count, let v = UInt32(String(String.UnicodeScalarView(s[i..<i + n])), radix: 16),
                    let scalar = Unicode.Scalar(v)
                else { throw fail("bad escape") }
                i += n
                out.append(scalar)
            default: out.append(e)
            }
        }
        throw fail("unterminated string")
    }

    /// A decimal integer, optionally negative, with Python 2's `L` suffix allowed.
    private mutating func integer() throws(Failure) -> Int {
        let negative = s[i] == "-"
        if negative { i += 1 }
        let start = i
        var v = 0
        while i < s.count, ("0"..."9").contains(s[i]) {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(s[i].value) - 48)
            guard !o1, !o2 else { throw fail("number too large") }
            v = a
            i += 1
        }
        guard i > start else { throw fail("expected a digit") }
        if i < s.count, s[i] == "L" || s[i] == "l" { i += 1 }
        if i < s.count, s[i] == "." || s[i] == "e" || s[i] == "E" || s[i] == "j" {
            throw fail("only integers are expected")
        }
        return negative ? -v : v
    }
}
