import IR

/// Moves Transposes down through elementwise operators and cancels them in pairs, so that a graph exported in
/// channels-last (Keras: NHWC, with `Transpose` around every convolution) keeps one layout change at its input.
///
/// Algebra, for a permutation p (Transpose(x, p)[i…] = x[i permuted by p]):
/// - f(T_p(x)) = T_p(f(x)) for unary elementwise f (Sigmoid, Relu, Clip, HardSigmoid, HardSwish, Identity);
/// - T_p(a) ⊙ T_p(b) = T_p(a ⊙ b) and T_p(a) ⊙ c = T_p(a ⊙ T_p⁻¹(c)) for ⊙ ∈ {Add, Sub, Mul, Div} and a constant c
///   (c is first left-padded with 1s to the rank of p, as broadcasting does);
/// - ReduceMean(T_p(x), axes A, keepdims = 0) = ReduceMean(x, p(A)) when the kept axes stay in increasing order
///   under p (true for the NHWC → NCHW pair: reducing H, W leaves [N, C] either way);
/// - T_q(T_p(x)) = T_{p∘q}(x), and is x when p∘q is the identity.
/// One sweep in graph order moves each Transpose as far down as it goes: a rewritten node's new Transpose is seen
/// by the nodes after it. Transposes left without readers are removed by dead-code elimination; graph outputs keep
/// their names (a rewritten node's new Transpose produces the name the node produced).
public struct SinkTransposes: GraphPass {
    public let name = "sink-transposes"
    public init() {}

    static let unary: Set<String> = ["Sigmoid", "Relu", "Clip", "HardSigmoid", "HardSwish", "Identity"]
    static let binary: Set<String> = ["Add", "Sub", "Mul", "Div"]

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var taken = graph.allValueNames
        var transposeOf = [String: (input: String, perm: [Int])]()
        var nodes = [Node]()
        nodes.reserveCapacity(graph.nodes.count)
        var moved = 0
        var cancelled = 0
        for node in graph.nodes {
            // Record the Transposes as they are emitted, so later nodes see the ones created here.
            func emit(_ n: Node) {
                if n.opType == "Transpose", n.domain.isEmpty, let x = n.input(0), let perm = n.ints("perm") {
                    transposeOf[n.outputs[0]] = (x, perm)
                }
                nodes.append(n)
            }
            guard node.domain.isEmpty, node.outputs.count == 1 else {
                emit(node)
                continue
            }
            let y = node.outputs[0]
            if node.opType == "Transpose", let x = node.input(0), let (inner, p) = transposeOf[x],
                let q = node.ints("perm"), q.count == p.count
            {
                let composed = q.map { p[$0] }
                if composed == Array(0..<composed.count) {
                    emit(Node(name: node.name, opType: "Identity", inputs: [inner], outputs: [y]))
                    cancelled += 1
                } else {
                    emit(Node(name: node.name, opType: "Transpose", inputs: [inner], outputs: [y],
                              attributes: ["perm": .ints(composed)]))
                    moved += 1
                }
                continue
            }
            if Self.unary.contains(node.opType) || Self.binary.contains(node.opType) {
                let variable = node.inputs.enumerated().filter { !$0.element.isEmpty && graph.constant($0.element) == nil }
                guard let first = variable.first, let (_, p) = transposeOf[first.element],
                    variable.allSatisfy({ transposeOf[$0.element]?.perm == p }),
                    Self.unary.contains(node.opType) ? variable.count == 1 && first.offset == 0 : true
                else {
                    emit(node)
                    continue
                }
                var inputs = node.inputs
                var ok = true
                for k in inputs.indices where !inputs[k].isEmpty {
                    if let (x, _) = transposeOf[inputs[k]] {
                        inputs[k] = x
                    } else if Self.binary.contains(node.opType), let c = graph.constant(inputs[k]) {
                        guard let laid = Self.inverseTransposed(c, perm: p) else {
                            ok = false
                            break
                        }
                        if laid.shape != c.shape || laid.count > 1 {
                            let name = graph.freshName(inputs[k] + ".nchw", avoiding: &taken)
                            graph.initializers[name] = laid
                            inputs[k] = name
                        }
                    }
                }
                guard ok else {
                    emit(node)
                    continue
                }
                let inner = graph.freshName(y + ".untransposed", avoiding: &taken)
                var rewritten = node
                rewritten.inputs = inputs
                rewritten.outputs = [inner]
                emit(rewritten)
                emit(Node(name: node.name + "/transpose", opType: "Transpose", inputs: [inner], outputs: [y],
                          attributes: ["perm": .ints(p)]))
                moved += 1
                continue
            }
            if node.opType == "ReduceMean", let x = node.input(0), let (inner, p) = transposeOf[x],
                (node.int("keepdims") ?? 1) == 0
            {
                let rank = p.count
                let axes: [Int]? = node.ints("axes") ?? node.input(1).flatMap { graph.constant($0)?.ints }
                if let a = axes.map({ $0.map { $0 < 0 ? $0 + rank : $0 } }), !a.isEmpty,
                    a.allSatisfy({ (0..<rank).contains($0) })
                {
                    let kept = (0..<rank).filter { !a.contains($0) }.map { p[$0] }
                    if kept == kept.sorted() {
                        let mapped = a.map { p[$0] }.sorted()
                        var rewritten = node
                        rewritten.inputs[0] = inner
                        if node.ints("axes") != nil {
                            rewritten.attributes["axes"] = .ints(mapped)
                        } else {
                            let name = graph.freshName(node.inputs[1] + ".nchw", avoiding: &taken)
                            graph.initializers[name] = Tensor(shape: [mapped.count], int64s: mapped.map { Int64($0) })
                            rewritten.inputs[1] = name
                        }
                        emit(rewritten)
                        moved += 1
                        continue
                    }
                }
            }
            emit(node)
        }
        guard moved + cancelled > 0 else { return .unchanged }
        graph.nodes = nodes
        _ = try EliminateIdentity().run(&graph, context: context)
        _ = try EliminateDeadCode().run(&graph, context: context)
        return PassResult(
            changes: moved + cancelled, summary: "moved \(moved) Transpose past a node, cancelled \(cancelled) pairs")
    }

    /// c' with T_p(c') = c (c left-padded with 1s to the rank of p), or nil when c has a higher rank.
    static func inverseTransposed(_ c: Tensor, perm p: [Int]) -> Tensor? {
        let rank = p.count
        guard c.rank <= rank else { return nil }
        if c.count == 1 { return c }
        let padded = [Int](repeating: 1, count: rank - c.rank) + c.shape
        // c'.shape[p[i]] = padded[i]; c'[j…] = c[i…] with j[p[i]] = i's index.
        var outShape = [Int](repeating: 1, count: rank)
        for i in 0..<rank { outShape[p[i]] = padded[i] }
        var inStrides = [Int](repeating: 1, count: rank)
        for k in stride(from: rank - 2, through: 0, by: -1) { inStrides[k] = inStrides[k + 1] * padded[k + 1] }
        let values = c.doubles
        var out = [Double](repeating: 0, count: values.count)
        var index = [Int](repeating: 0, count: rank)  // index into c' (outShape), row-major
        for flat in 0..<values.count {
            var source = 0
            for i in 0..<rank { source += index[p[i]] * inStrides[i] }
            out[flat] = values[source]
            var k = rank - 1
            while k >= 0 {
                index[k] += 1
                if index[k] < outShape[k] { break }
                index[k] = 0
                k -= 1
            }
        }
        return Tensor(dtype: c.dtype, shape: outShape, values: out)
    }
}
