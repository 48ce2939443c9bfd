import IR

/// PyTorch `torch.save` files, read without running Python or any code they name.
///
/// Two layouts: the zip format (`<name>/data.pkl`, a pickle whose tensors point at storages stored as the members
/// `<name>/data/<key>`, `<name>/byteorder`), and the legacy format (five pickles in a row — magic number, protocol
/// 1001, system info, the object, the storage keys — then each storage as an 8-byte element count and its bytes).
/// The pickle goes through `TorchUnpickler`, which refuses every global outside `torch.load(weights_only=True)`'s
/// allowance before any tensor data is read. The state dict is the top-level dict when it holds tensors, else
/// the first of `state_dict`, `model`, `model_ema`, `module`, `state_dict_ema` that does (training checkpoints).
public enum TorchCheckpoint {
    /// The legacy format's magic number 0x1950a86a20f9469cfc6c, as LONG1 stores it (little-endian).
    static let legacyMagic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]
    static let legacyProtocol: Int64 = 1001
    /// Keys that hold the state dict in training checkpoints, in the order they are tried.
    static let nestedKeys = ["state_dict", "model", "model_ema", "module", "state_dict_ema"]

    public static func read(contentsOf path: String) throws -> [NamedTensor] {
        let file: InputFile
        do {
            file = try InputFile(path: path)
        } catch {
            throw WeightFileError.cannotOpen(file: path, reason: error.reason)
        }
        return try file.withMappedBytes { try decode($0, file: path) }
    }

    public static func decode(bytes: [UInt8], file: String = "") throws -> [NamedTensor] {
        try bytes.withUnsafeBytes { try decode($0, file: file) }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, file: String) throws -> [NamedTensor] {
        if bytes.starts(with: [0x50, 0x4b]) { return try decodeZip(bytes, file: file) }
        return try decodeLegacy(bytes, file: file)
    }

    /// Persistent ids: `("storage", <storage type>, key, location, numel[, view_metadata])`.
    static func storage(_ pid: PickleValue, file: String) throws -> PickleValue {
        guard case .tuple(let t) = pid, t.count >= 5, t[0].string == "storage" else {
            throw WeightFileError.malformed(file: file, detail: "pickle: a persistent id that is not a storage")
        }
        guard case .global(.storageType(let dtype)) = t[1] else {
            throw WeightFileError.unsupported(file: file, detail: "pickle: a storage of a type effnet does not read")
        }
        guard let key = t[2].string, let count = t[4].int, count >= 0 else {
            throw WeightFileError.malformed(file: file, detail: "pickle: a storage without a key or size")
        }
        var ref = TorchStorageRef(key: key, dtype: dtype, count: count)
        if t.count >= 6, case .tuple(let view) = t[5], view.count == 3 {
            // Legacy view: (view key, element offset into the root `key`, view size).
            guard let viewKey = view[0].string, let offset = view[1].int, let size = view[2].int, offset >= 0, size >= 0
            else { throw WeightFileError.malformed(file: file, detail: "pickle: a malformed storage view") }
            ref = TorchStorageRef(key: viewKey, dtype: dtype, count: size, view: (key, offset))
        }
        return .storage(ref)
    }

    // MARK: - Zip format

    static func decodeZip(_ bytes: UnsafeRawBufferPointer, file: String) throws -> [NamedTensor] {
        let directory = try ZipDirectory(archive: bytes, file: file)
        guard let pkl = directory.entries.first(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") })
        else { throw WeightFileError.malformed(file: file, detail: "a zip archive without data.pkl is not torch.save output") }
        let prefix = String(pkl.name.dropLast("data.pkl".count))
        let entries = Dictionary(directory.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        if let order = entries[prefix + "byteorder"] {
            let text = String(decoding: try directory.memberBytes(order), as: UTF8.self)
            guard text == "little" else {
                throw WeightFileError.unsupported(file: file, detail: "storages are \(text)-endian; effnet reads little-endian")
            }
        }
        let pickle = try directory.memberBytes(pkl)
        let root = try pickle.withUnsafeBytes { raw in
            var unpickler = TorchUnpickler(data: raw, file: file) { try storage($0, file: file) }
            return try unpickler.load()
        }
        let refs = try stateDict(root, file: file)
        var cache: [String: [UInt8]] = [:]
        return try refs.map { name, ref in
            let key = ref.storage.view?.root ?? ref.storage.key
            if cache[key] == nil {
                guard let member = entries[prefix + "data/" + key] else {
                    throw WeightFileError.malformed(file: file, detail: "'\(name)': storage '\(key)' is missing from the archive")
                }
                cache[key] = try directory.memberBytes(member)
            }
            return NamedTensor(name: name, tensor: try materialize(ref, root: cache[key]!, name: name, file: file))
        }
    }

    // MARK: - Legacy format

    static func decodeLegacy(_ bytes: UnsafeRawBufferPointer, file: String) throws -> [NamedTensor] {
        final class Seen { var dtypes: [String: (DType, Int)] = [:] }
        let seen = Seen()
        var unpickler = TorchUnpickler(data: bytes, file: file) { pid in
            let s = try storage(pid, file: file)
            if case .storage(let ref) = s {
                let root = ref.view?.root ?? ref.key
                if ref.view == nil { seen.dtypes[root] = (ref.dtype, ref.count) }
                else if seen.dtypes[root] == nil { seen.dtypes[root] = (ref.dtype, -1) }
            }
            return s
        }
        guard case .bigInt(let magic) = try unpickler.load(), magic == legacyMagic else {
            throw WeightFileError.malformed(file: file, detail: "a pickle, but not a torch.save file (no magic number)")
        }
        guard case .int(let proto) = try unpickler.load(), proto == legacyProtocol else {
            throw WeightFileError.unsupported(file: file, detail: "a legacy torch.save file of an unknown protocol")
        }
        if case .dict(let info) = try unpickler.load(), case .bool(false)? = info["little_endian"] {
            throw WeightFileError.unsupported(file: file, detail: "storages are big-endian; effnet reads little-endian")
        }
        let root = try unpickler.load()
        guard case .list(let keyList) = try unpickler.load() else {
            throw WeightFileError.malformed(file: file, detail: "the storage key list is missing")
        }
        let refs = try stateDict(root, file: file)
        // Storages follow in key order: an 8-byte element count, then the elements.
        var storages: [String: [UInt8]] = [:]
        var p = unpickler.position
        for item in keyList.items {
            guard let key = item.string, let (dtype, _) = seen.dtypes[key] else {
                throw WeightFileError.malformed(file: file, detail: "the storage key list names an unknown storage")
            }
            guard bytes.count - p >= 8 else {
                throw WeightFileError.truncated(file: file, detail: "storage '\(key)' is missing")
            }
            let declared = bytes.u64(p)
            p += 8
            guard let count = Int(exactly: declared), let size = checkedByteCount(shape: [count], elementSize: dtype.byteSize),
                size <= bytes.count - p
            else {
                throw WeightFileError.truncated(
                    file: file, detail: "storage '\(key)' declares \(declared) elements but the file ends first")
            }
            storages[key] = Array(bytes[p..<(p + size)])
            p += size
        }
        return try refs.map { name, ref in
            let key = ref.storage.view?.root ?? ref.storage.key
            guard let root = storages[key] else {
                throw WeightFileError.malformed(file: file, detail: "'\(name)': storage '\(key)' is not in the file")
            }
            return NamedTensor(name: name, tensor: try materialize(ref, root: root, name: name, file: file))
        }
    }

    // MARK: - State dict and tensors

    /// The (name, tensor) pairs of the state dict inside `root`, in order.
    static func stateDict(_ root: PickleValue, file: String) throws -> [(String, TorchTensorRef)] {
        func find(_ value: PickleValue, depth: Int) -> [(String, TorchTensorRef)]? {
            guard depth < 4, case .dict(let d) = value else { return nil }
            var tensors: [(String, TorchTensorRef)] = []
            for (k, v) in zip(d.keys, d.values) {
                if let name = k.string, case .tensor(let t) = v { tensors.append((name, t)) }
            }
            if !tensors.isEmpty { return tensors }
            for key in nestedKeys {
                if let inner = d[key], let found = find(inner, depth: depth + 1) { return found }
            }
            return nil
        }
        if let found = find(root, depth: 0) { return found }
        var detail = "holds no tensors"
        if case .dict(let d) = root {
            detail += " at the top level or under \(nestedKeys.joined(separator: ", ")) (keys: "
                + d.keys.prefix(8).map { $0.string ?? "?" }.joined(separator: ", ") + ")"
        }
        throw WeightFileError.malformed(file: file, detail: detail)
    }

    /// The tensor's elements gathered from its storage's bytes, every index checked against the storage.
    static func materialize(_ ref: TorchTensorRef, root: [UInt8], name: String, file: String) throws -> Tensor {
        let dtype = ref.storage.dtype
        let e = dtype.byteSize
        func bad(_ detail: String) -> WeightFileError { .malformed(file: file, detail: "'\(name)': " + detail) }
        // The storage: the root's bytes, or a legacy view's window of them.
        let base = ref.storage.view?.offset ?? 0
        guard let storageEnd = checkedByteCount(shape: [base + ref.storage.count], elementSize: e),
            ref.storage.view != nil || ref.storage.count * e == root.count, storageEnd <= root.count
        else {
            throw bad("storage '\(ref.storage.key)' declares \(ref.storage.count) elements but holds \(root.count) bytes")
        }
        guard let count = checkedByteCount(shape: ref.shape, elementSize: 1), ref.offset >= 0,
            ref.strides.allSatisfy({ $0 >= 0 })
        else { throw bad("shape \(ref.shape), stride \(ref.strides), offset \(ref.offset) are invalid") }
        if count == 0 { return Tensor(dtype: dtype, shape: ref.shape, bytes: []) }
        var last = ref.offset
        for (d, s) in zip(ref.shape, ref.strides) {
            let (m, o1) = (d - 1).multipliedReportingOverflow(by: s)
            let (sum, o2) = last.addingReportingOverflow(m)
            guard !o1, !o2 else { throw bad("strides overflow") }
            last = sum
        }
        guard last < ref.storage.count else {
            throw bad("shape \(ref.shape) with stride \(ref.strides) at offset \(ref.offset) reads past its \(ref.storage.count)-element storage")
        }
        var contiguous = [Int](repeating: 1, count: ref.shape.count)
        for i in stride(from: ref.shape.count - 2, through: 0, by: -1) { contiguous[i] = contiguous[i + 1] * ref.shape[i + 1] }
        let isContiguous = zip(zip(ref.shape, ref.strides), contiguous).allSatisfy { $0.0.0 == 1 || $0.0.1 == $0.1 }
        let start = (base + ref.offset) * e
        if isContiguous { return Tensor(dtype: dtype, shape: ref.shape, bytes: Array(root[start..<(start + count * e)])) }
        var out = [UInt8]()
        out.reserveCapacity(count * e)
        var index = [Int](repeating: 0, count: ref.shape.count)
        for _ in 0..<count {
            let element = zip(index, ref.strides).reduce(0) { $0 + $1.0 * $1.1 }
            let at = start + element * e
            out.append(contentsOf: root[at..<(at + e)])
            var k = index.count - 1
            while k >= 0 {
                index[k] += 1
                if index[k] < ref.shape[k] { break }
                index[k] = 0
                k -= 1
            }
        }
        return Tensor(dtype: dtype, shape: ref.shape, bytes: out)
    }
}

extension ZipDirectory {
    /// A member's bytes: stored or deflated, CRC-32 checked, sizes checked before allocating.
    func memberBytes(_ entry: ZipEntry) throws -> [UInt8] {
        guard !entry.isEncrypted else { throw NPZError.encrypted(file: file, member: entry.name) }
        let range = try dataRange(of: entry)
        let data = UnsafeRawBufferPointer(rebasing: archive[range])
        let bytes: [UInt8]
        switch entry.method {
        case Zip.methodStored:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw NPZError.sizeMismatch(file: file, member: entry.name, detail: "stored sizes differ")
            }
            bytes = Array(data)
        case Zip.methodDeflate:
            let (bound, overflow) = entry.compressedSize.multipliedReportingOverflow(by: Zip.maxDeflateRatio)
            guard overflow || entry.uncompressedSize <= bound + 64 else {
                throw NPZError.sizeMismatch(file: file, member: entry.name, detail: "more than deflate can produce")
            }
            var source = try NPYInflateSource(
                compressed: data, uncompressedSize: entry.uncompressedSize, file: file, member: entry.name)
            bytes = try source.readArray(count: entry.uncompressedSize)
            try source.finish()
        default:
            throw NPZError.unsupportedCompression(file: file, member: entry.name, method: entry.method)
        }
        let crc = ZipCRC32.update(0, bytes)
        guard crc == entry.crc32 else {
            throw NPZError.badCRC(file: file, member: entry.name, stored: entry.crc32, computed: crc)
        }
        return bytes
    }
}
