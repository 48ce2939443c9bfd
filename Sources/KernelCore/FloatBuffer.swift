import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A 64-byte aligned, zero-initialised block of floats that frees itself: the only way the runtime allocates
/// kernel memory (packed weights, the activation arena, scratch).
///
/// Every allocation bumps `FloatBuffer.allocationCount`, so a test can check that an inference allocates no
/// runtime memory after the first run (the plan owns every buffer it needs). Memory is 64-byte aligned so that
/// one `SIMD16<Float>` never straddles a cache line when offsets are multiples of 16, and carries 64 bytes of
/// slack past `count` so that a kernel may read (never write) one vector beyond a row end.
package final class FloatBuffer: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<Float>
    package let count: Int

    /// Number of `FloatBuffer`s created by this process.
    package static var allocationCount: Int { counter.load(ordering: .relaxed) }
    private static let counter = Atomic<Int>(0)

    /// Number of `FloatBuffer`s created by the calling thread. Tests run a one-thread session, whose every step runs
    /// on the caller's thread, and check that this does not move during inference; the process-wide count would be
    /// disturbed by tests running in parallel.
    package static var allocationsOnThisThread: Int { Int(bitPattern: pthread_getspecific(threadKey)) }
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    package init(count: Int) {
        precondition(count >= 0)
        self.count = count
        let bytes = (count + 16) * MemoryLayout<Float>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        pointer = raw.bindMemory(to: Float.self, capacity: count + 16)
        FloatBuffer.counter.add(1, ordering: .relaxed)
        pthread_setspecific(
            FloatBuffer.threadKey, UnsafeRawPointer(bitPattern: FloatBuffer.allocationsOnThisThread + 1))
    }

    package convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { pointer.deallocate() }

    package var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

// The vector helpers below are `@inlinable`: each kernel family inlines them and compiles them for its own CPU.

/// Loads 16 floats from any address.
@inlinable @inline(__always)
package func loadVector(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

/// Stores 16 floats at any address.
@inlinable @inline(__always)
package func storeVector(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Loads the first `n` (< 16) floats at `p`, zero elsewhere: the tail of a row whose length is not a multiple of 16.
/// Eight, the usual tail (24, 40, 56, … channels), is one 256-bit load; other counts go lane by lane.
@inlinable @inline(__always)
package func loadPartial(_ p: UnsafePointer<Float>, _ n: Int) -> SIMD16<Float> {
    if n == 8 { return SIMD16(lowHalf: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self), highHalf: SIMD8()) }
    var v = SIMD16<Float>()
    for i in 0..<n { v[i] = p[i] }
    return v
}

/// Stores the first `n` (< 16) lanes of `v` at `p` (eight as one 256-bit store).
@inlinable @inline(__always)
package func storePartial(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    if n == 8 {
        UnsafeMutableRawPointer(p).storeBytes(of: v.lowHalf, as: SIMD8<Float>.self)
        return
    }
    for i in 0..<n { p[i] = v[i] }
}

/// Lane numbers 0…15, for masking the lanes past a partial block.
@inlinable
package var laneIndex: SIMD16<Int32> { SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) }

/// Loads 8 floats from any address.
@inlinable @inline(__always)
package func loadVector8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Stores 8 floats at any address.
@inlinable @inline(__always)
package func storeVector8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}
