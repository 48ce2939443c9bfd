import CProtobufC

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Owns every C allocation of a protobuf-c message tree built from Swift values, and frees them all at once.
///
/// protobuf-c packs from plain C structs whose strings, arrays and sub-messages are raw pointers; building a
/// `ModelProto` therefore means hundreds of small allocations with one lifetime: until `pack` has run. The arena
/// records each one and frees them in `deinit`, so the writer never frees message by message and cannot leak
/// when it throws half way.
final class ONNXProtoArena {
    private var allocations = [UnsafeMutableRawPointer]()

    deinit {
        for pointer in allocations { free(pointer) }
    }

    /// Uninitialized memory for `count` values of `T` (at least one, so the pointer is never NULL).
    func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = max(count, 1) * MemoryLayout<T>.stride
        guard let raw = malloc(bytes) else { fatalError("out of memory allocating \(bytes) bytes for a protobuf") }
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A protobuf-c message of type `T`, initialized by its generated `*_init` function.
    func message<T>(_ initialize: (UnsafeMutablePointer<T>) -> Void) -> UnsafeMutablePointer<T> {
        let pointer = allocate(T.self, count: 1)
        initialize(pointer)
        return pointer
    }

    /// A NUL-terminated copy of `text`.
    func string(_ text: String) -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(text.utf8)
        let pointer = allocate(CChar.self, count: utf8.count + 1)
        utf8.withUnsafeBytes {
            UnsafeMutableRawPointer(pointer).copyMemory(from: $0.baseAddress!, byteCount: utf8.count)
        }
        pointer[utf8.count] = 0
        return pointer
    }

    /// A copy of `text`, or NULL (the field absent) when it is empty: for optional proto2 string fields.
    func optionalString(_ text: String) -> UnsafeMutablePointer<CChar>? {
        text.isEmpty ? nil : string(text)
    }

    /// A C array holding `values` (NULL when empty), for repeated scalar fields.
    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let pointer = allocate(T.self, count: values.count)
        pointer.initialize(from: values, count: values.count)
        return pointer
    }

    /// A C array of message or string pointers (NULL when empty), for repeated message / string fields.
    func pointers<T>(_ values: [UnsafeMutablePointer<T>]) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?>? {
        guard !values.isEmpty else { return nil }
        let pointer = allocate(UnsafeMutablePointer<T>?.self, count: values.count)
        for (i, value) in values.enumerated() { (pointer + i).initialize(to: value) }
        return pointer
    }

    /// A `bytes` field holding a copy of `bytes`.
    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let pointer = allocate(UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { pointer.initialize(from: $0.baseAddress!, count: bytes.count) }
        return ProtobufCBinaryData(len: bytes.count, data: pointer)
    }
}
