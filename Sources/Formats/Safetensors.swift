import Foundation
import IR

/// Hugging Face safetensors files: an 8-byte little-endian header length N, N bytes of JSON
/// (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`), then the data,
/// with offsets relative to the first byte after the header.
///
/// Reading maps the file and checks everything a header can lie about before copying a byte: N against the file
/// (and the format's 100 MB header limit), the JSON's shape, each dtype, each shape's byte size against its offsets,
/// every range against the data, and that no two ranges overlap. Tensors keep their dtype (F16, BF16 and F64 widen
/// to float32 exactly where the graph is built); they are returned in data order, which is how
/// `safetensors.torch.save_file` lays them out.
public enum Safetensors {
    /// The format's own limit on the header (safetensors refuses larger ones too).
    static let maxHeaderBytes = 100_000_000

    /// Reads every tensor of the file at `path`.
    public static func read(contentsOf path: String) throws -> [NamedTensor] {
        let file: InputFile
        do {
            file = try InputFile(path: path)
        } catch {
            throw WeightFileError.cannotOpen(file: path, reason: error.reason)
        }
        return try file.withMappedBytes { bytes in
            try decode(bytes, file: path, decoded: file.dropMappedPages)
        }
    }

    /// Reads every tensor of a file held in memory.
    public static func decode(bytes: [UInt8], file: String = "") throws -> [NamedTensor] {
        try bytes.withUnsafeBytes { try decode($0, file: file) }
    }

    /// Whether `prefix` (the first bytes of a file) starts like a safetensors file: a plausible header length
    /// followed by `{`.
    static func looksLike(_ prefix: [UInt8], fileSize: Int) -> Bool {
        guard prefix.count >= 9 else { return false }
        let n = prefix.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        return prefix[8] == UInt8(ascii: "{") && n >= 2 && n <= UInt64(fileSize - 8)
    }

    // MARK: - dtypes

    static let dtypes: [String: DType] = [
        "F32": .float32, "F16": .float16, "BF16": .bfloat16, "F64": .float64,
        "I64": .int64, "I32": .int32, "I16": .int16, "I8": .int8, "U8": .uint8, "BOOL": .bool,
    ]

    static func code(of dtype: DType) -> String {
        dtypes.first { $0.value == dtype }!.key
    }

    // MARK: - Reading

    static func decode(
        _ bytes: UnsafeRawBufferPointer, file: String, decoded: (Range<Int>) -> Void = { _ in }
    ) throws -> [NamedTensor] {
        func bad(_ detail: String) -> WeightFileError { .malformed(file: file, detail: "safetensors: " + detail) }
        guard bytes.count >= 8 else { throw WeightFileError.truncated(file: file, detail: "no safetensors header") }
        let declared = bytes.u64(0)
        guard declared <= UInt64(maxHeaderBytes) else {
            throw bad("header length \(declared) exceeds the format's limit of \(maxHeaderBytes) bytes")
        }
        let headerLength = Int(declared)
        guard headerLength <= bytes.count - 8 else {
            throw WeightFileError.truncated(
                file: file, detail: "the header claims \(headerLength) bytes but the file has \(bytes.count - 8) after its length")
        }
        let headerBytes = Data(UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)]))
        guard let json = try? JSONSerialization.jsonObject(with: headerBytes), let header = json as? [String: Any]
        else { throw bad("the header is not a JSON object") }
        let dataStart = 8 + headerLength
        let dataSize = bytes.count - dataStart

        struct Entry {
            var name: String
            var dtype: DType
            var shape: [Int]
            var range: Range<Int>
        }
        var entries: [Entry] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any] else { throw bad("'\(name)' is not an object") }
            guard let code = info["dtype"] as? String else { throw bad("'\(name)' has no dtype") }
            guard let dtype = dtypes[code] else {
                throw WeightFileError.unsupported(
                    file: file, detail: "safetensors: '\(name)' has dtype \(code), which effnet does not read")
            }
            guard let shape = integers(info["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw bad("'\(name)' has no valid shape")
            }
            guard let offsets = integers(info["data_offsets"]), offsets.count == 2, offsets[0] >= 0,
                offsets[0] <= offsets[1]
            else { throw bad("'\(name)' has no valid data_offsets") }
            guard offsets[1] <= dataSize else {
                throw WeightFileError.truncated(
                    file: file, detail: "'\(name)' ends at data byte \(offsets[1]) of \(dataSize)")
            }
            guard let size = checkedByteCount(shape: shape, elementSize: dtype.byteSize),
                size == offsets[1] - offsets[0]
            else {
                throw bad("'\(name)' is \(code) \(shape) but its data_offsets span \(offsets[1] - offsets[0]) bytes")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, range: offsets[0]..<offsets[1]))
        }
        entries.sort { ($0.range.lowerBound, $0.range.upperBound, $0.name) < ($1.range.lowerBound, $1.range.upperBound, $1.name) }
        for (a, b) in zip(entries, entries.dropFirst()) where b.range.lowerBound < a.range.upperBound {
            throw bad("'\(a.name)' and '\(b.name)' overlap")
        }
        return entries.map { e in
            let range = (dataStart + e.range.lowerBound)..<(dataStart + e.range.upperBound)
            let tensor = Tensor(dtype: e.dtype, shape: e.shape, bytes: Array(bytes[range]))
            decoded(range)
            return NamedTensor(name: e.name, tensor: tensor)
        }
    }

    /// An array of JSON integers (exact, no fractions), or nil.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var out = [Int]()
        for v in array {
            // Exact integers only: 1.5, 1e300 and values past 2^53 (where Double and Int64 disagree) are refused.
            guard let n = v as? NSNumber, Double(n.int64Value) == n.doubleValue,
                abs(n.doubleValue) < 9.0e15
            else { return nil }
            out.append(Int(n.int64Value))
        }
        return out
    }

    // MARK: - Writing

    /// Writes `arrays` as a safetensors file that `safetensors.torch.load_file` reads, data in the given order, the
    /// header padded with spaces to a multiple of 8 bytes. The file appears complete or not at all.
    public static func write(_ arrays: [NamedTensor], to path: String, metadata: [String: String] = [:]) throws {
        let parts = try encodedHeader(arrays, metadata: metadata, file: path)
        let output = try AtomicFileWriter(path: path)
        try output.write(parts)
        for a in arrays { try output.write(a.tensor.bytes) }
        try output.commit()
    }

    /// The bytes `write` would store.
    public static func encode(_ arrays: [NamedTensor], metadata: [String: String] = [:]) throws -> [UInt8] {
        var out = try encodedHeader(arrays, metadata: metadata, file: "")
        for a in arrays { out += a.tensor.bytes }
        return out
    }

    /// The 8-byte length and the padded JSON header.
    static func encodedHeader(_ arrays: [NamedTensor], metadata: [String: String], file: String) throws -> [UInt8] {
        var seen = Set<String>()
        var fields: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        var offset = 0
        for a in arrays {
            guard seen.insert(a.name).inserted, a.name != "__metadata__" else {
                throw WeightFileError.malformed(file: file, detail: "two tensors are named '\(a.name)'")
            }
            let end = offset + a.tensor.bytes.count
            let shape = a.tensor.shape.map(String.init).joined(separator: ",")
            fields.append(
                "\(jsonString(a.name)):{\"dtype\":\"\(code(of: a.tensor.dtype))\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}"
            )
            offset = end
        }
        var header = Array("{\(fields.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var out = [UInt8]()
        out.appendLE(UInt64(header.count))
        return out + header
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
