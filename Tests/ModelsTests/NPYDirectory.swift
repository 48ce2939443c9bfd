import Foundation
import IR

/// Test-only: a directory of `.npy` files plus `names.tsv` (`file<TAB>tensor name`), the exchange format of
/// `tools/check_timm_strict_load.py` for cross-checks with PyTorch/Keras. Little-endian f4/f8/i8/i4, C order only.
enum NPYDirectory {
    static func read(_ directory: URL) throws -> [(String, Tensor)] {
        let manifest = try String(contentsOf: directory.appendingPathComponent("names.tsv"), encoding: .utf8)
        return try manifest.split(separator: "\n").map { line in
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            return (parts[1], try decode(Data(contentsOf: directory.appendingPathComponent(parts[0]))))
        }
    }

    static func write(_ tensors: [(String, Tensor)], to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var manifest = ""
        for (i, (name, tensor)) in tensors.enumerated() {
            let file = String(format: "%05d.npy", i)
            try encode(tensor).write(to: directory.appendingPathComponent(file))
            manifest += "\(file)\t\(name)\n"
        }
        try manifest.write(to: directory.appendingPathComponent("names.tsv"), atomically: true, encoding: .utf8)
    }

    struct Unsupported: Error { var what: String }

    static func decode(_ data: Data) throws -> Tensor {
        let bytes = [UInt8](data)
        guard bytes.count > 10, bytes[0] == 0x93, bytes[1...5].elementsEqual("NUMPY".utf8) else {
            throw Unsupported(what: "not an npy file")
        }
        let major = bytes[6]
        let headerLength =
            major == 1
            ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        let start = major == 1 ? 10 : 12
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        func field(_ key: String) -> String {
            let r = header.range(of: "'\(key)': ")!
            return String(header[r.upperBound...])
        }
        let descr = String(field("descr").dropFirst().prefix { $0 != "'" })
        guard field("fortran_order").hasPrefix("False") else { throw Unsupported(what: "fortran order") }
        let shapeText = field("shape").dropFirst().prefix { $0 != ")" }
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let dtype: DType
        switch descr {
        case "<f4": dtype = .float32
        case "<f8": dtype = .float64
        case "<i8": dtype = .int64
        case "<i4": dtype = .int32
        default: throw Unsupported(what: "dtype \(descr)")
        }
        return Tensor(dtype: dtype, shape: shape, bytes: Array(bytes[(start + headerLength)...]))
    }

    static func encode(_ tensor: Tensor) -> Data {
        let descr: String
        switch tensor.dtype {
        case .float32: descr = "<f4"
        case .float64: descr = "<f8"
        case .int64: descr = "<i8"
        case .int32: descr = "<i4"
        default: preconditionFailure("test writer: \(tensor.dtype)")
        }
        let shape =
            tensor.shape.isEmpty
            ? "()"
            : tensor.shape.count == 1
                ? "(\(tensor.shape[0]),)"
                : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out = Data(
            [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        out.append(contentsOf: Array(header.utf8))
        out.append(contentsOf: tensor.bytes)
        return out
    }
}
