/// `MatMul`: NumPy matmul. 2-D is a matrix product; higher ranks are stacks of matrices whose batch
/// dimensions broadcast; a 1-D A is treated as [1,K] and a 1-D B as [K,1], and that 1 is removed again.
package enum MatMulOp: OperatorDefinition {
    static let opType = "MatMul"

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let a = try c.required(0, "A")
        let b = try c.required(1, "B")
        if let x = a.dtype, let y = b.dtype, x != y { throw c.fail("A is \(x) but B is \(y)") }
        guard let sa = a.shape, let sb = b.shape else { return [facts(a.dtype ?? b.dtype, nil)] }
        guard !sa.isEmpty, !sb.isEmpty else { throw c.fail("MatMul inputs must have rank ≥ 1") }
        let pa: Shape = sa.count == 1 ? [1, sa[0]] : sa
        let pb: Shape = sb.count == 1 ? [sb[0], 1] : sb
        let ka = pa[pa.count - 1]
        let kb = pb[pb.count - 2]
        if let x = ka.value, let y = kb.value, x != y {
            throw c.fail("A \(sa.text) and B \(sb.text): inner dimensions \(x) and \(y) differ")
        }
        let batch = try Broadcast.shape([Shape(pa.dropLast(2)), Shape(pb.dropLast(2))], node: c.node)!
        var out = batch
        if sa.count > 1 { out.append(pa[pa.count - 2]) }
        if sb.count > 1 { out.append(pb[pb.count - 1]) }
        return [facts(a.dtype ?? b.dtype, out)]
    }
}
