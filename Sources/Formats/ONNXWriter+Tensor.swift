import CProtobufC
import IR
import ONNXProto

extension ONNXEncoder {
    /// A `TensorProto` holding `tensor`'s bytes as `raw_data`, or, for initializers at or above the layout's
    /// threshold, a reference to their range in the external data file. The IR already stores little-endian
    /// element bytes exactly as `raw_data` wants them, so no conversion happens and values stay bit-identical.
    func tensor(_ tensor: Tensor, name: String, allowExternal: Bool) -> UnsafeMutablePointer<Onnx__TensorProto> {
        let proto = arena.message(onnx__tensor_proto__init)
        proto.pointee.n_dims = tensor.shape.count
        proto.pointee.dims = arena.array(tensor.shape.map { Int64($0) })
        proto.pointee.has_data_type = 1
        proto.pointee.data_type = ONNXDataType.code(of: tensor.dtype)
        proto.pointee.name = arena.optionalString(name)
        if allowExternal, let layout, !tensor.bytes.isEmpty, tensor.bytes.count >= layout.threshold {
            let offset = layout.place(tensor.bytes)
            proto.pointee.has_data_location = 1
            proto.pointee.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL
            let entries = [
                entry(key: "location", value: layout.location),
                entry(key: "offset", value: String(offset)),
                entry(key: "length", value: String(tensor.bytes.count)),
            ]
            proto.pointee.n_external_data = entries.count
            proto.pointee.external_data = arena.pointers(entries)
        } else {
            proto.pointee.has_raw_data = 1
            proto.pointee.raw_data = arena.binary(tensor.bytes)
        }
        return proto
    }
}

/// The layout of the external data file: which tensor bytes go at which offset.
///
/// Offsets are aligned to 4096 bytes (a page) for tensors of 64 KiB or more, so that a runtime can memory-map
/// them (onnx recommends page-aligned offsets for mmap), and to 64 bytes (a cache line, and the widest SIMD
/// load) for smaller ones, which keeps the padding of a model with hundreds of small bias vectors negligible.
/// The tensors' byte arrays are referenced, not copied, until `write(to:)` streams them out.
final class ONNXExternalLayout {
    /// The data file's name, relative to the model's folder (it lives beside the model).
    let location: String
    /// Tensors smaller than this stay inside the protobuf.
    let threshold: Int
    private(set) var pieces = [(offset: Int, bytes: [UInt8])]()
    private(set) var size = 0

    static let pageAlignment = 4096
    static let smallAlignment = 64
    static let pageAlignedFrom = 64 * 1024

    init(location: String, threshold: Int) {
        self.location = location
        self.threshold = threshold
    }

    /// Appends `bytes` at the next aligned offset and returns that offset.
    func place(_ bytes: [UInt8]) -> Int {
        let alignment = bytes.count >= Self.pageAlignedFrom ? Self.pageAlignment : Self.smallAlignment
        let offset = (size + alignment - 1) / alignment * alignment
        pieces.append((offset, bytes))
        size = offset + bytes.count
        return offset
    }

    /// Writes every piece at its offset, zero-filling the alignment gaps.
    func write(to writer: AtomicFileWriter) throws {
        var position = 0
        for piece in pieces {
            if piece.offset > position { try writer.write([UInt8](repeating: 0, count: piece.offset - position)) }
            try writer.write(piece.bytes)
            position = piece.offset + piece.bytes.count
        }
    }
}
