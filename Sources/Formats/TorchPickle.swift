import IR

/// A value built by `TorchUnpickler`. Lists and dicts are references, as in Python, so that the memo and the
/// stack see the same object when APPEND or SETITEMS fill it after it was memoized.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer wider than 64 bits, as its little-endian two's-complement bytes (the legacy magic number).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// One of the allowed globals, not yet called.
    case global(TorchUnpickler.Global)
    /// A storage named by a persistent id: its key in the archive, element type and element count.
    case storage(TorchStorageRef)
    /// A tensor view of a storage (`_rebuild_tensor_v2`).
    case tensor(TorchTensorRef)

    var int: Int? {
        if case .int(let v) = self { return Int(exactly: v) }
        return nil
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

final class PickleList { var items: [PickleValue] = [] }

/// An ordered dict (Python dicts keep insertion order); keys effnet looks up are strings.
final class PickleDict {
    var keys: [PickleValue] = []
    var values: [PickleValue] = []

    func set(_ key: PickleValue, _ value: PickleValue) {
        if let s = key.string, let i = keys.firstIndex(where: { $0.string == s }) {
            values[i] = value
        } else {
            keys.append(key)
            values.append(value)
        }
    }

    subscript(key: String) -> PickleValue? {
        keys.firstIndex { $0.string == key }.map { values[$0] }
    }
}

struct TorchStorageRef {
    var key: String
    var dtype: DType
    var count: Int
    /// Legacy views of a larger storage: (root key, element offset) — the root's bytes hold this one.
    var view: (root: String, offset: Int)?
}

struct TorchTensorRef {
    var storage: TorchStorageRef
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}

/// A pickle reader that understands only what `torch.load(weights_only=True)` allows, and builds values instead
/// of running code.
///
/// Allowed globals: `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` / `_rebuild_tensor` /
/// `_rebuild_parameter` / `_rebuild_parameter_with_state`, the typed storages (`torch.FloatStorage`, …), the
/// dtypes `torch.float32`…, and `_codecs.encode` (how protocol 2 stores bytes). Any other global — `os.system`,
/// `builtins.eval`, `argparse.Namespace` — stops reading with `WeightFileError.refusedGlobal` naming it, at the
/// GLOBAL opcode, before any tensor data is read: nothing is ever imported, called or allocated from it. Every
/// size and index in the stream is checked; the memo and stack are plain arrays bounded by the stream's length.
struct TorchUnpickler {
    enum Global: Equatable {
        case orderedDict, rebuildTensor, rebuildTensorV2, rebuildParameter, rebuildParameterWithState
        case storageType(DType)
        case dtype(DType)
        case codecsEncode
    }

    static let storageTypes: [String: DType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8,
        "ByteStorage": .uint8, "BoolStorage": .bool,
    ]
    static let dtypeNames: [String: DType] = [
        "float32": .float32, "float": .float32, "float64": .float64, "double": .float64, "float16": .float16,
        "half": .float16, "bfloat16": .bfloat16, "int64": .int64, "long": .int64, "int32": .int32, "int": .int32,
        "int16": .int16, "short": .int16, "int8": .int8, "uint8": .uint8, "bool": .bool,
    ]

    static func resolve(module: String, name: String) -> Global? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor"): return .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameterWithState
        case ("_codecs", "encode"): return .codecsEncode
        case ("torch", _):
            if let d = storageTypes[name] { return .storageType(d) }
            if let d = dtypeNames[name] { return .dtype(d) }
            return nil
        default: return nil
        }
    }

    let file: String
    let data: UnsafeRawBufferPointer
    private(set) var position: Int
    /// Resolves a persistent id (BINPERSID) to a storage.
    var persistentLoad: (PickleValue) throws -> PickleValue

    init(data: UnsafeRawBufferPointer, at position: Int = 0, file: String,
         persistentLoad: @escaping (PickleValue) throws -> PickleValue) {
        self.data = data
        self.position = position
        self.file = file
        self.persistentLoad = persistentLoad
    }

    private func bad(_ detail: String) -> WeightFileError { .malformed(file: file, detail: "pickle: " + detail) }

    private mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= data.count - position else {
            throw WeightFileError.truncated(file: file, detail: "the pickle ends inside an opcode at byte \(position)")
        }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: data[position..<(position + n)])
    }

    private mutating func byte() throws -> UInt8 { try take(1)[0] }
    private mutating func u16() throws -> Int { Int(try take(2).u16(0)) }
    private mutating func u32() throws -> Int { Int(try take(4).u32(0)) }
    private mutating func u64() throws -> Int {
        let v = try take(8).u64(0)
        guard let i = Int(exactly: v) else { throw bad("a length of \(v) bytes") }
        return i
    }
    private mutating func line() throws -> String {
        guard let end = data[position...].firstIndex(of: 0x0a) else {
            throw WeightFileError.truncated(file: file, detail: "the pickle ends inside a text argument")
        }
        let s = String(decoding: data[position..<end], as: UTF8.self)
        position = end + 1
        return s
    }

    private enum Item { case value(PickleValue), mark }

    /// Reads one pickle (up to its STOP opcode) and returns its value.
    mutating func load() throws -> PickleValue {
        var stack: [Item] = []
        var memo: [Int: PickleValue] = [:]

        func pop() throws -> PickleValue {
            guard case .value(let v)? = stack.popLast() else { throw bad("stack underflow at byte \(position)") }
            return v
        }
        func popMark() throws -> [PickleValue] {
            guard let m = stack.lastIndex(where: { if case .mark = $0 { true } else { false } }) else {
                throw bad("no MARK at byte \(position)")
            }
            let items = stack[(m + 1)...].map { item -> PickleValue in
                if case .value(let v) = item { return v }
                return .none
            }
            stack.removeSubrange(m...)
            return items
        }
        func top() throws -> PickleValue {
            guard case .value(let v)? = stack.last else { throw bad("stack underflow at byte \(position)") }
            return v
        }
        func global(_ module: String, _ name: String) throws -> PickleValue {
            guard let g = Self.resolve(module: module, name: name) else {
                throw WeightFileError.refusedGlobal(file: file, global: "\(module).\(name)")
            }
            return .global(g)
        }

        while true {
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()  // PROTO
            case 0x95: _ = try take(8)  // FRAME
            case 0x2e: return try pop()  // STOP
            case 0x28: stack.append(.mark)  // MARK
            case 0x4e: stack.append(.value(.none))  // NONE
            case 0x88: stack.append(.value(.bool(true)))
            case 0x89: stack.append(.value(.bool(false)))
            case 0x4b: stack.append(.value(.int(Int64(try byte()))))  // BININT1
            case 0x4d: stack.append(.value(.int(Int64(try u16()))))  // BININT2
            case 0x4a: stack.append(.value(.int(Int64(Int32(bitPattern: UInt32(try u32()))))))  // BININT
            case 0x8a, 0x8b:  // LONG1, LONG4
                let n = op == 0x8a ? Int(try byte()) : try u32()
                let b = Array(try take(n))
                if n <= 8 {
                    var v: Int64 = 0
                    for (i, x) in b.enumerated() { v |= Int64(x) << (8 * Int64(i)) }
                    if n > 0, n < 8, b[n - 1] & 0x80 != 0 { v -= Int64(1) << (8 * Int64(n)) }
                    stack.append(.value(.int(v)))
                } else {
                    stack.append(.value(.bigInt(b)))
                }
            case 0x49:  // INT (text)
                let s = try line()
                if s == "01" { stack.append(.value(.bool(true))) } else if s == "00" { stack.append(.value(.bool(false))) } else {
                    guard let v = Int64(s) else { throw bad("INT '\(s)'") }
                    stack.append(.value(.int(v)))
                }
            case 0x4c:  // LONG (text)
                let s = try line()
                guard let v = Int64(s.hasSuffix("L") ? String(s.dropLast()) : s) else { throw bad("LONG '\(s)'") }
                stack.append(.value(.int(v)))
            case 0x47: stack.append(.value(.float(Double(bitPattern: UInt64(bigEndian: try take(8).loadUnaligned(as: UInt64.self))))))
            case 0x58, 0x8c, 0x8d:  // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                let n = op == 0x58 ? try u32() : op == 0x8c ? Int(try byte()) : try u64()
                stack.append(.value(.string(String(decoding: try take(n), as: UTF8.self))))
            case 0x54, 0x55:  // BINSTRING, SHORT_BINSTRING (protocol-2 str of Python 2; text here)
                let n = op == 0x54 ? try u32() : Int(try byte())
                stack.append(.value(.string(String(decoding: try take(n), as: UTF8.self))))
            case 0x42, 0x43, 0x8e:  // BINBYTES, SHORT_BINBYTES, BINBYTES8
                let n = op == 0x42 ? try u32() : op == 0x43 ? Int(try byte()) : try u64()
                stack.append(.value(.bytes(Array(try take(n)))))
            case 0x29: stack.append(.value(.tuple([])))  // EMPTY_TUPLE
            case 0x74: stack.append(.value(.tuple(try popMark())))  // TUPLE
            case 0x85: stack.append(.value(.tuple([try pop()])))
            case 0x86:
                let b = try pop()
                stack.append(.value(.tuple([try pop(), b])))
            case 0x87:
                let c = try pop()
                let b = try pop()
                stack.append(.value(.tuple([try pop(), b, c])))
            case 0x5d: stack.append(.value(.list(PickleList())))  // EMPTY_LIST
            case 0x6c:  // LIST
                let l = PickleList()
                l.items = try popMark()
                stack.append(.value(.list(l)))
            case 0x7d: stack.append(.value(.dict(PickleDict())))  // EMPTY_DICT
            case 0x64:  // DICT
                let items = try popMark()
                let d = PickleDict()
                guard items.count % 2 == 0 else { throw bad("DICT with an odd number of items") }
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
                stack.append(.value(.dict(d)))
            case 0x61:  // APPEND
                let v = try pop()
                guard case .list(let l) = try top() else { throw bad("APPEND to a non-list") }
                l.items.append(v)
            case 0x65:  // APPENDS
                let items = try popMark()
                guard case .list(let l) = try top() else { throw bad("APPENDS to a non-list") }
                l.items += items
            case 0x73:  // SETITEM
                let v = try pop()
                let k = try pop()
                guard case .dict(let d) = try top() else { throw bad("SETITEM on a non-dict") }
                d.set(k, v)
            case 0x75:  // SETITEMS
                let items = try popMark()
                guard case .dict(let d) = try top(), items.count % 2 == 0 else { throw bad("SETITEMS on a non-dict") }
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
            case 0x71: memo[Int(try byte())] = try top()  // BINPUT
            case 0x72: memo[try u32()] = try top()  // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()  // MEMOIZE
            case 0x70:  // PUT (text)
                guard let i = Int(try line()) else { throw bad("PUT index") }
                memo[i] = try top()
            case 0x68, 0x6a, 0x67:  // BINGET, LONG_BINGET, GET
                let i = op == 0x68 ? Int(try byte()) : op == 0x6a ? try u32() : (Int(try line()) ?? -1)
                guard let v = memo[i] else { throw bad("memo \(i) read before it was written") }
                stack.append(.value(v))
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32: stack.append(.value(try top()))  // DUP
            case 0x63:  // GLOBAL "module\nname\n"
                let module = try line()
                let name = try line()
                stack.append(.value(try global(module, name)))
            case 0x93:  // STACK_GLOBAL
                let name = try pop()
                let module = try pop()
                guard let m = module.string, let n = name.string else { throw bad("STACK_GLOBAL of non-strings") }
                stack.append(.value(try global(m, n)))
            case 0x51:  // BINPERSID
                stack.append(.value(try persistentLoad(try pop())))
            case 0x52:  // REDUCE
                let args = try pop()
                let callee = try pop()
                guard case .global(let g) = callee, case .tuple(let a) = args else {
                    throw bad("REDUCE of something that is not an allowed global")
                }
                stack.append(.value(try call(g, a)))
            case 0x81:  // NEWOBJ: only OrderedDict
                _ = try pop()
                guard case .global(.orderedDict) = try pop() else { throw bad("NEWOBJ of a class other than OrderedDict") }
                stack.append(.value(.dict(PickleDict())))
            case 0x62:  // BUILD: state of an OrderedDict (a state dict's `_metadata`), ignored
                _ = try pop()
                guard case .dict = try top() else { throw bad("BUILD on something other than an OrderedDict") }
            default:
                throw bad(String(format: "opcode 0x%02x at byte %d is not used by weight files", op, position - 1))
            }
        }
    }

    /// The effect of calling an allowed global: values are built, nothing runs.
    private func call(_ g: Global, _ a: [PickleValue]) throws -> PickleValue {
        switch g {
        case .orderedDict:
            return .dict(PickleDict())
        case .rebuildTensorV2, .rebuildTensor:
            guard a.count >= 4, case .storage(let s) = a[0], let offset = a[1].int, case .tuple(let size) = a[2],
                case .tuple(let stride) = a[3]
            else { throw bad("_rebuild_tensor arguments are not (storage, offset, size, stride, …)") }
            let shape = size.compactMap(\.int)
            let strides = stride.compactMap(\.int)
            guard shape.count == size.count, strides.count == stride.count, shape.count == strides.count else {
                throw bad("a tensor's size and stride are not tuples of integers of one length")
            }
            return .tensor(TorchTensorRef(storage: s, offset: offset, shape: shape, strides: strides))
        case .rebuildParameter, .rebuildParameterWithState:
            guard let t = a.first, case .tensor = t else { throw bad("_rebuild_parameter of a non-tensor") }
            return t
        case .codecsEncode:
            guard let s = a.first?.string else { throw bad("_codecs.encode of a non-string") }
            // latin-1: each code point below 256 is one byte.
            return .bytes(s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        case .storageType, .dtype:
            throw bad("a storage type or dtype was called")
        }
    }
}
