/// Element layout conversions for `.npy` data: byte order and Fortran → C order.
enum NPYLayout {
    /// Reverses the bytes of every `elementSize`-byte element in place (big-endian ↔ little-endian).
    static func swapBytes(_ buffer: UnsafeMutableRawBufferPointer, elementSize: Int) {
        let n = buffer.count / elementSize
        switch elementSize {
        case 2:
            for i in 0..<n {
                let v = buffer.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)
                buffer.storeBytes(of: v.byteSwapped, toByteOffset: i * 2, as: UInt16.self)
            }
        case 4:
            for i in 0..<n {
                let v = buffer.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
                buffer.storeBytes(of: v.byteSwapped, toByteOffset: i * 4, as: UInt32.self)
            }
        case 8:
            for i in 0..<n {
                let v = buffer.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
                buffer.storeBytes(of: v.byteSwapped, toByteOffset: i * 8, as: UInt64.self)
            }
        default:
            precondition(elementSize == 1, "no byte swap for \(elementSize)-byte elements")
        }
    }

    /// Reorders elements stored in Fortran (column-major) order into C (row-major) order.
    ///
    /// Element (i₀, …, iₖ₋₁) sits at Fortran offset Σ iⱼ·sⱼ with s₀ = 1 and sⱼ = sⱼ₋₁·dⱼ₋₁; the output walks
    /// indices in C order with an odometer and keeps the source offset up to date incrementally.
    static func fortranToC(_ bytes: [UInt8], shape: [Int], elementSize: Int) -> [UInt8] {
        let count = shape.reduce(1, *)
        guard shape.count >= 2, count > 1 else { return bytes }
        switch elementSize {
        case 1: return transposed(bytes, shape: shape, as: UInt8.self)
        case 2: return transposed(bytes, shape: shape, as: UInt16.self)
        case 4: return transposed(bytes, shape: shape, as: UInt32.self)
        case 8: return transposed(bytes, shape: shape, as: UInt64.self)
        default: preconditionFailure("no layout conversion for \(elementSize)-byte elements")
        }
    }

    private static func transposed<T: FixedWidthInteger>(_ bytes: [UInt8], shape: [Int], as: T.Type) -> [UInt8] {
        let rank = shape.count
        let count = shape.reduce(1, *)
        var stride = [Int](repeating: 1, count: rank)
        for j in 1..<rank { stride[j] = stride[j - 1] * shape[j - 1] }
        var index = [Int](repeating: 0, count: rank)
        let size = MemoryLayout<T>.size
        return [UInt8](unsafeUninitializedCapacity: bytes.count) { out, initialized in
            bytes.withUnsafeBytes { src in
                let dst = UnsafeMutableRawBufferPointer(out)
                var from = 0
                for to in 0..<count {
                    dst.storeBytes(
                        of: src.loadUnaligned(fromByteOffset: from * size, as: T.self), toByteOffset: to * size,
                        as: T.self)
                    var j = rank - 1
                    while j >= 0 {
                        index[j] += 1
                        from += stride[j]
                        if index[j] < shape[j] { break }
                        from -= stride[j] * shape[j]
                        index[j] = 0
                        j -= 1
                    }
                }
            }
            initialized = bytes.count
        }
    }
}
