import CProtobufC
import ONNXProto

/// Measures how deeply the sub-messages of a serialized `ModelProto` nest, without recursion.
///
/// protobuf-c unpacks nested messages recursively with about a kilobyte of stack per level, and ONNX lets a
/// message contain itself (Graph → Node → Attribute → Graph, TypeProto → Sequence → TypeProto), so a file of a
/// few tens of kilobytes could nest deep enough to overflow the stack: a crash, not an error. This scan walks the
/// wire format with an explicit stack, following the generated descriptors to know which length-delimited fields
/// are messages, and reports the maximum depth before protobuf-c sees the bytes. Malformed input simply ends the
/// scan: protobuf-c will then refuse it with a proper error.
enum ONNXNestingCheck {
    /// Deepest message nesting accepted. Real models nest about 8 levels (Model → Graph → Node → Attribute →
    /// Tensor, or ValueInfo → Type → Tensor → Shape → Dimension); 64 leaves room for ~14 nested sub-graphs.
    static let maximumDepth = 64

    /// True when no message in `bytes` nests deeper than `maximumDepth`.
    static func isWithinLimit(_ bytes: UnsafeRawBufferPointer) -> Bool {
        withUnsafePointer(to: onnx__model_proto__descriptor) { root in
            var stack: [(descriptor: UnsafePointer<ProtobufCMessageDescriptor>, end: Int)] = [(root, bytes.count)]
            var position = 0
            while let top = stack.last {
                if position >= top.end {
                    stack.removeLast()
                    continue
                }
                guard let tag = ONNXWire.varint(bytes, &position, end: top.end), tag >> 3 <= UInt64(UInt32.max) else {
                    return true
                }
                switch tag & 7 {
                case 0:
                    guard ONNXWire.varint(bytes, &position, end: top.end) != nil else { return true }
                case 1, 5:
                    position += tag & 7 == 1 ? 8 : 4
                    if position > top.end { return true }
                case 2:
                    guard let length = ONNXWire.varint(bytes, &position, end: top.end),
                        length <= UInt64(top.end - position)
                    else { return true }
                    let end = position + Int(length)
                    if let child = messageType(of: UInt32(tag >> 3), in: top.descriptor) {
                        if stack.count >= maximumDepth { return false }
                        stack.append((child, end))
                    } else {
                        position = end
                    }
                default: return true  // groups and invalid wire types: protobuf-c rejects them
                }
            }
            return true
        }
    }

    /// The message descriptor of field `id` when that field is a sub-message.
    private static func messageType(
        of id: UInt32, in descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) -> UnsafePointer<ProtobufCMessageDescriptor>? {
        let fields = UnsafeBufferPointer(start: descriptor.pointee.fields, count: Int(descriptor.pointee.n_fields))
        guard let field = fields.first(where: { $0.id == id }), field.type == PROTOBUF_C_TYPE_MESSAGE,
            let child = field.descriptor
        else { return nil }
        return child.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
    }
}
