/// `Gemm`: Y = α · A′ · B′ + β · C with A′ = transA ? Aᵀ : A (M×K), B′ = transB ? Bᵀ : B (K×N), and C
/// broadcast (unidirectionally) to M×N. C is optional from opset 11.
package enum GemmOp: OperatorDefinition {
    static let opType = "Gemm"

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let a = try c.required(0, "A")
        let b = try c.required(1, "B")
        if let x = a.dtype, let y = b.dtype, x != y { throw c.fail("A is \(x) but B is \(y)") }
        for (name, s) in [("A", a.shape), ("B", b.shape)] {
            if let s, s.count != 2 { throw c.fail("\(name) must be 2-D, got \(s.text)") }
        }
        let ta = c.node.int("transA") == 1
        let tb = c.node.int("transB") == 1
        let m = a.shape.map { ta ? $0[1] : $0[0] } ?? .unknown
        let ka = a.shape.map { ta ? $0[0] : $0[1] } ?? .unknown
        let kb = b.shape.map { tb ? $0[1] : $0[0] } ?? .unknown
        let n = b.shape.map { tb ? $0[0] : $0[1] } ?? .unknown
        if let x = ka.value, let y = kb.value, x != y {
            throw c.fail("A′ is \(m)×\(x) but B′ is \(y)×\(n): inner dimensions differ")
        }
        if let cs = c.input(2)?.shape {
            guard cs.count <= 2 else { throw c.fail("C must have rank ≤ 2, got \(cs.text)") }
            let target: Shape = [m, n]
            for (i, d) in cs.enumerated() {
                let t = target[2 - cs.count + i]
                if let dv = d.value, dv != 1, let tv = t.value, dv != tv {
                    throw c.fail("C \(cs.text) cannot be broadcast to \(target.text)")
                }
            }
        }
        return [facts(a.dtype ?? b.dtype, [m, n])]
    }
}
