/// A data-movement operator (Transpose, Slice, Pad, Gather, Concat, broadcast) expressed as "output element
/// `i` is source element `sources[i]`", so that one description moves tensor bytes at run time and partial
/// shape knowledge (`[Dim]` elements) at inference time alike.
///
/// `sources` index the row-major concatenation of the operator's sources; a negative entry selects the fill
/// value (constant padding).
struct GatherPlan {
    var shape: [Int]
    var sources: [Int]

    /// A marker for "no source" in axis tables; large enough that a sum over up to 64 axes stays negative
    /// and far from overflow.
    static let fill = -(1 << 56)

    /// Builds flat source indices from per-axis tables: `sources[o] = Σ_d tables[d][o_d]`, or -1 when any
    /// table entry is `fill`.
    static func sources(shape: [Int], tables: [[Int]]) -> [Int] {
        precondition(tables.count == shape.count && zip(shape, tables).allSatisfy { $0 == $1.count })
        let total = shape.reduce(1, *)
        var out = [Int](repeating: -1, count: total)
        if total == 0 { return out }
        guard let last = shape.indices.last else {
            out[0] = 0
            return out
        }
        let innerTable = tables[last]
        let n = shape[last]
        var index = [Int](repeating: 0, count: last)
        var base = 0
        for d in 0..<last { base += tables[d][0] }
        var k = 0
        while true {
            if base >= 0 {
                for j in 0..<n {
                    let s = base + innerTable[j]
                    out[k + j] = s >= 0 ? s : -1
                }
            }
            k += n
            var d = last - 1
            while d >= 0 {
                base -= tables[d][index[d]]
                index[d] += 1
                if index[d] < shape[d] {
                    base += tables[d][index[d]]
                    break
                }
                index[d] = 0
                base += tables[d][0]
                d -= 1
            }
            if d < 0 { return out }
        }
    }

    /// Moves elements of `inputs` (same dtype; concatenated in order) into a new tensor; `fill` (one element
    /// of the same dtype) is used where the plan has no source.
    func apply(_ inputs: [Tensor], fill: Tensor? = nil) -> Tensor {
        let dtype = inputs[0].dtype
        let width = dtype.byteSize
        let source: [UInt8] = inputs.count == 1 ? inputs[0].bytes : inputs.flatMap(\.bytes)
        let fillBytes = fill?.converted(to: dtype).bytes ?? [UInt8](repeating: 0, count: width)
        precondition(fillBytes.count == width, "fill must be one element")
        let bytes: [UInt8]
        switch width {
        case 1: bytes = GatherPlan.move(source, sources, fillBytes, as: UInt8.self)
        case 2: bytes = GatherPlan.move(source, sources, fillBytes, as: UInt16.self)
        case 4: bytes = GatherPlan.move(source, sources, fillBytes, as: UInt32.self)
        default: bytes = GatherPlan.move(source, sources, fillBytes, as: UInt64.self)
        }
        return Tensor(dtype: dtype, shape: shape, bytes: bytes)
    }

    private static func move<W: FixedWidthInteger>(
        _ source: [UInt8], _ sources: [Int], _ fillBytes: [UInt8], as _: W.Type
    ) -> [UInt8] {
        let fill = fillBytes.withUnsafeBytes { $0.loadUnaligned(as: W.self) }
        var out = [UInt8](repeating: 0, count: sources.count * MemoryLayout<W>.size)
        source.withUnsafeBytes { raw in
            let src = raw.bindMemory(to: W.self)
            out.withUnsafeMutableBytes { outRaw in
                let dst = outRaw.bindMemory(to: W.self)
                for (i, s) in sources.enumerated() { dst[i] = s >= 0 ? src[s] : fill }
            }
        }
        return out
    }

    /// Moves partial element knowledge the same way.
    func apply(_ inputs: [[Dim]], fill: Dim = .known(0)) -> [Dim] {
        let source = inputs.count == 1 ? inputs[0] : inputs.flatMap { $0 }
        return sources.map { $0 >= 0 ? source[$0] : fill }
    }
}
