import Testing

@testable import Runtime

@Suite struct ArenaTests {
    /// Random lifetimes and sizes: two values whose step intervals overlap never share a byte, every offset is
    /// 16-float aligned, and the arena is no larger than the sum of sizes (it reuses memory).
    @Test(arguments: [1, 2, 3, 4, 5])
    func liveValuesNeverOverlap(_ seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed))
        var values = [PlanValue]()
        for i in 0..<60 {
            let first = Int.random(in: -1..<40, using: &rng)
            let last = first + Int.random(in: 0..<10, using: &rng)
            var v = PlanValue(name: "v\(i)", shape: [Int.random(in: 1..<5000, using: &rng)], layout: .nchw)
            v.firstUse = first
            v.lastUse = i % 17 == 0 ? Int.max : last
            values.append(v)
        }
        let total = Arena.assign(&values)
        #expect(total < values.reduce(0) { $0 + $1.count + 32 })
        for (i, a) in values.enumerated() {
            #expect(a.offset % 16 == 0)
            #expect(a.offset + a.count <= total)
            for b in values[(i + 1)...] where !(a.lastUse < b.firstUse || b.lastUse < a.firstUse) {
                #expect(
                    a.offset + a.count <= b.offset || b.offset + b.count <= a.offset, "\(a.name) and \(b.name) overlap")
            }
        }
    }

    /// NCHW ↔ NHWC at awkward sizes is a permutation and round-trips exactly.
    @Test(arguments: [[1, 1, 1, 1], [2, 3, 5, 7], [1, 17, 3, 16], [3, 33, 1, 15]])
    func layoutConversionRoundTrips(_ shape: [Int]) {
        var rng = SeededGenerator(seed: 1)
        let count = shape.reduce(1, *)
        let x = rng.floats(count)
        let src = buffer(x)
        let nhwc = FloatBuffer(count: count)
        let back = FloatBuffer(count: count)
        LayoutKernels.convert(src.pointer, nhwc.pointer, shape: shape, toNHWC: true, pool: WorkerPool(threads: 2))
        let (c, h, w) = (shape[1], shape[2], shape[3])
        for n in 0..<shape[0] {
            for ch in 0..<c {
                for y in 0..<h {
                    for xx in 0..<w {
                        #expect(nhwc.pointer[((n * h + y) * w + xx) * c + ch] == x[((n * c + ch) * h + y) * w + xx])
                    }
                }
            }
        }
        LayoutKernels.convert(nhwc.pointer, back.pointer, shape: shape, toNHWC: false, pool: nil)
        #expect(back.array == x)
    }
}
