import IR

/// NumPy's `.npy` array format (versions 1.0, 2.0 and 3.0), read and written as `np.save` / `np.load` do.
///
/// A file is the magic `\x93NUMPY`, a version, a little-endian header length (2 bytes in 1.0, 4 in 2.0/3.0),
/// a Python-literal dict `{'descr': …, 'fortran_order': …, 'shape': …}` padded with spaces and a newline to a
/// multiple of 64 bytes, then the raw elements. Reading converts big-endian data to little-endian and Fortran
/// order to C order, so the resulting `Tensor` always has the IR's layout; writing produces exactly the bytes
/// `np.save` produces for the same C-ordered little-endian array.
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]
    /// numpy refuses headers above 10000 characters unless told to trust the file; 1 MiB leaves room for
    /// any real header while keeping a hostile length from sizing an allocation.
    static let maxHeaderLength = 1 << 20

    /// Decodes a whole `.npy` file. `name` (the array or member name) is used in error messages.
    public static func decode(_ bytes: [UInt8], name: String) throws -> Tensor {
        try bytes.withUnsafeBytes { raw in
            var source = NPYMemorySource(raw)
            return try decode(from: &source, name: name)
        }
    }

    /// Encodes a tensor as a `.npy` file (version 1.0 unless the header needs 2.0).
    ///
    /// bfloat16 has no numpy dtype (numpy would store it as an anonymous `<V2`), so it is written as float32,
    /// which holds every bfloat16 value exactly.
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        let (header, data) = encodedParts(tensor)
        return header + data
    }

    /// The header and the element bytes of `encode`, apart, so archives can write them without joining them.
    static func encodedParts(_ tensor: Tensor) -> (header: [UInt8], data: [UInt8]) {
        let data = tensor.dtype == .bfloat16 ? widenedBFloat16(tensor.bytes) : tensor.bytes
        return (header(descr: NPYHeader.descr(of: tensor.dtype), shape: tensor.shape), data)
    }

    /// bfloat16 is the top half of a float32: shifting the bits up 16 widens every value exactly, NaN
    /// payloads included.
    static func widenedBFloat16(_ bytes: [UInt8]) -> [UInt8] {
        let n = bytes.count / 2
        return [UInt8](unsafeUninitializedCapacity: n * 4) { out, initialized in
            bytes.withUnsafeBytes { src in
                let dst = UnsafeMutableRawBufferPointer(out)
                for i in 0..<n {
                    let bits = UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    dst.storeBytes(of: (bits << 16).littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                }
            }
            initialized = n * 4
        }
    }

    /// numpy's header for a C-ordered array: the dict, growth padding, then alignment to 64 bytes.
    static func header(descr: String, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Room for the first axis to grow to 21 digits in place, as numpy ≥ 1.23 leaves.
        if let first = shape.first { dict += String(repeating: " ", count: max(0, 21 - String(first).count)) }
        let text = Array(dict.utf8)
        for (version, lengthSize) in [(UInt8(1), 2), (UInt8(2), 4)] {
            let unpadded = magic.count + 2 + lengthSize + text.count + 1
            let padding = 64 - unpadded % 64
            let length = text.count + padding + 1
            if lengthSize == 2 && length > 0xffff { continue }
            var out = magic + [version, 0]
            if lengthSize == 2 { out.appendLE(UInt16(length)) } else { out.appendLE(UInt32(length)) }
            out += text
            out += [UInt8](repeating: 0x20, count: padding)
            out.append(0x0a)
            return out
        }
        preconditionFailure("a .npy header cannot exceed 4 GiB")
    }

    /// Decodes one array from `source`, which must hold exactly the array (header and data).
    ///
    /// The header's byte count is checked against `source.remaining` before the element buffer is allocated,
    /// so a header that claims a shape of 10¹² elements on a short file fails at once.
    static func decode<S: NPYSource>(from source: inout S, name: String) throws -> Tensor {
        let total = source.remaining
        func truncated(_ detail: String) -> NPZError { .truncated(file: "", member: name, detail: detail) }

        guard total >= 10 else {
            throw total == 0
                ? truncated("empty, not a .npy array") : truncated("\(total) bytes, too short for a .npy header")
        }
        var prelude = [UInt8](repeating: 0, count: 10)
        try prelude.withUnsafeMutableBytes { try source.read(into: $0) }
        guard prelude.starts(with: magic) else {
            let detail: String
            if prelude.starts(with: [0x50, 0x4b, 0x03, 0x04]) {
                detail = "is a ZIP archive (an .npz?), not a .npy array"
            } else if prelude[0] == 0x80 {
                detail = "is a Python pickle, not a .npy array; pickles are never loaded"
            } else {
                detail = "not a .npy array (no \\x93NUMPY magic)"
            }
            throw NPZError.badMagic(file: "", member: name, detail: detail)
        }
        let (major, minor) = (prelude[6], prelude[7])
        let headerLength: Int
        switch (major, minor) {
        case (1, 0):
            headerLength = Int(prelude[8]) | Int(prelude[9]) << 8
        case (2, 0), (3, 0):
            var high = [UInt8](repeating: 0, count: 2)
            guard source.remaining >= 2 else { throw truncated("ends inside the header length") }
            try high.withUnsafeMutableBytes { try source.read(into: $0) }
            headerLength = Int(prelude[8]) | Int(prelude[9]) << 8 | Int(high[0]) << 16 | Int(high[1]) << 24
        default:
            throw NPZError.badHeader(
                file: "", member: name, detail: "unsupported .npy format version \(major).\(minor)")
        }
        guard headerLength <= source.remaining else {
            throw truncated("the header announces \(headerLength) bytes, only \(source.remaining) follow")
        }
        guard headerLength <= maxHeaderLength else {
            throw NPZError.badHeader(file: "", member: name, detail: "\(headerLength)-byte header is implausibly large")
        }
        var headerBytes = [UInt8](repeating: 0, count: headerLength)
        try headerBytes.withUnsafeMutableBytes { try source.read(into: $0) }
        let text: String
        if major == 3 {
            guard let t = String(validating: headerBytes, as: UTF8.self) else {
                throw NPZError.badHeader(file: "", member: name, detail: "a version 3.0 header must be UTF-8")
            }
            text = t
        } else {
            text = String(String.UnicodeScalarView(headerBytes.map { Unicode.Scalar($0) }))  // latin-1
        }
        let header = try NPYHeader.parse(text, name: name)
        let byteCount = header.byteCount!
        guard byteCount == source.remaining else {
            let shape = PythonLiteral.tuple(header.shape.map { .int($0) }).repr
            throw NPZError.sizeMismatch(
                file: "", member: name,
                detail:
                    "the header's shape \(shape) of \(header.dtype) needs \(byteCount) data bytes, \(source.remaining) are present"
            )
        }
        var data = try source.readArray(count: byteCount)
        if header.bigEndian {
            data.withUnsafeMutableBytes { NPYLayout.swapBytes($0, elementSize: header.dtype.byteSize) }
        }
        if header.fortranOrder {
            data = NPYLayout.fortranToC(data, shape: header.shape, elementSize: header.dtype.byteSize)
        }
        return Tensor(dtype: header.dtype, shape: header.shape, bytes: data)
    }
}
