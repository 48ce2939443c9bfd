import IR
import Models
import Testing

/// `Tensor.permuted` (the OIHW ↔ HWIO / HWC1 / [in, out] conversions) against a plain index-by-index reference,
/// at awkward sizes (0, 1, 3, 15, 16, 17) and element sizes 1, 2, 4 and 8 bytes. Exact: bytes are moved, not
/// computed.
@Suite struct LayoutConversionTests {
    /// numpy `transpose(perm)` by definition: out[i₀…] = in[j] with j[perm[k]] = i[k].
    func reference(_ t: Tensor, _ perm: [Int]) -> Tensor {
        let shape = perm.map { t.shape[$0] }
        let size = t.dtype.byteSize
        var out = [UInt8](repeating: 0, count: t.bytes.count)
        var inStrides = [Int](repeating: 1, count: t.rank)
        for k in stride(from: t.rank - 2, through: 0, by: -1) { inStrides[k] = inStrides[k + 1] * t.shape[k + 1] }
        for o in 0..<t.count {
            var rest = o
            var source = 0
            for k in stride(from: t.rank - 1, through: 0, by: -1) {
                let i = rest % shape[k]
                rest /= shape[k]
                source += i * inStrides[perm[k]]
            }
            for b in 0..<size { out[o * size + b] = t.bytes[source * size + b] }
        }
        return Tensor(dtype: t.dtype, shape: shape, bytes: out)
    }

    static let cases: [([Int], [Int])] = [
        ([3, 5, 3, 3], [2, 3, 1, 0]), ([17, 1, 3, 3], [2, 3, 0, 1]), ([16, 15], [1, 0]),
        ([1, 17, 1, 3], [3, 1, 0, 2]),
        ([0, 3, 3, 3], [2, 3, 1, 0]), ([33], [0]), ([2, 3, 4], [2, 0, 1]),
    ]

    @Test(arguments: cases, [DType.float32, .float16, .int64, .uint8])
    func matchesReference(_ c: ([Int], [Int]), _ dtype: DType) {
        let (shape, perm) = c
        let n = shape.reduce(1, *)
        let t = Tensor(dtype: dtype, shape: shape, values: (0..<n).map { Double($0 % 251) - 17 })
        let p = t.permuted(perm)
        #expect(p == reference(t, perm))
        var inv = [Int](repeating: 0, count: perm.count)
        for (k, v) in perm.enumerated() { inv[v] = k }
        #expect(p.permuted(inv) == t)
    }
}
