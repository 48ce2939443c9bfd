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
        let g = Attributes(c.node)
        let (ta, tb) = (g.transA, g.transB)
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

    /// The node's attributes with ONNX's defaults (a non-zero `transA`/`transB` transposes, as onnxruntime reads it):
    /// the one reading for inference, the reference and the native runtime. A `MatMul` node reads as the defaults.
    package struct Attributes {
        package var transA: Bool
        package var transB: Bool
        package var alpha: Float
        package var beta: Float

        package init(_ node: Node) {
            guard node.opType == GemmOp.opType else {
                (transA, transB, alpha, beta) = (false, false, 1, 1)
                return
            }
            transA = (node.int("transA") ?? 0) != 0
            transB = (node.int("transB") ?? 0) != 0
            alpha = node.float("alpha") ?? 1
            beta = node.float("beta") ?? 1
        }
    }
}
