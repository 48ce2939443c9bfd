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
