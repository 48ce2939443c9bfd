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
/// - T_q(Pad(x, P)) = Pad(T_q(x), P'') for constant padding read only by the Transpose, with P''[k] = P[q[k]]
///   (hoisted first: Keras's `ZeroPadding2D` pads NHWC just before the Transpose into a convolution, so the pad
///   ends up in the convolution's layout, where `fold-pad` folds it);
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
        let hoisted = Self.hoistTransposesAbovePads(&graph, taken: &taken)
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
        moved += hoisted
        guard moved + cancelled > 0 else { return .unchanged }
        graph.nodes = nodes
        _ = try EliminateIdentity().run(&graph, context: context)
        _ = try EliminateDeadCode().run(&graph, context: context)
        return PassResult(
            changes: moved + cancelled, summary: "moved \(moved) Transpose past a node, cancelled \(cancelled) pairs")
    }

    /// T_q(Pad(x, P)) = Pad(T_q(x), P'') with P''[k] = P[q[k]], for a constant Pad read only by the Transpose: a
    /// channels-last graph that pads its input before the first Transpose (Keras's EfficientNet `stem_conv_pad`)
    /// then pads in the convolution's layout, where `fold-pad` can fold it. Returns the number of pairs swapped.
    static func hoistTransposesAbovePads(_ graph: inout Graph, taken: inout Set<String>) -> Int {
        var readers = [String: Int]()
        for n in graph.nodes { for i in n.inputs where !i.isEmpty { readers[i, default: 0] += 1 } }
        for o in graph.outputs { readers[o.name, default: 0] += 1 }
        var producer = [String: Int]()
        for (k, n) in graph.nodes.enumerated() { for o in n.outputs { producer[o] = k } }
        var swapped = 0
        var dropped = Set<Int>()
        for t in graph.nodes.indices {
            let transpose = graph.nodes[t]
            guard transpose.opType == "Transpose", transpose.domain.isEmpty, let q = transpose.ints("perm"),
                var padded = transpose.input(0), readers[padded] == 1, var k = producer[padded]
            else { continue }
            // Through Identities (what eliminate-casts leaves of Keras's Casts), each read only by the next.
            var identities = [Int]()
            while graph.nodes[k].opType == "Identity", graph.nodes[k].domain.isEmpty, let i = graph.nodes[k].input(0),
                readers[i] == 1, let before = producer[i]
            {
                identities.append(k)
                padded = i
                k = before
            }
            let pad = graph.nodes[k]
            guard pad.opType == "Pad", pad.domain.isEmpty, pad.outputs.count == 1,
                (pad.string("mode") ?? "constant") == "constant", pad.inputs.count < 4 || pad.inputs[3].isEmpty,
                let x = pad.input(0)
            else { continue }
            let rank = q.count
            let fromInput = pad.ints("pads") == nil
            // The pads input may still sit behind the Identity a removed Cast left.
            var padsName = pad.input(1) ?? ""
            while graph.constant(padsName) == nil, let j = producer[padsName], graph.nodes[j].opType == "Identity",
                let i = graph.nodes[j].input(0)
            {
                padsName = i
            }
            guard let pads = pad.ints("pads") ?? graph.constant(padsName)?.ints, pads.count == 2 * rank else {
                continue
            }
            let permuted = (0..<rank).map { pads[q[$0]] } + (0..<rank).map { pads[rank + q[$0]] }
            let laidOut = graph.freshName(x + ".transposed", avoiding: &taken)
            var newPad = pad
            newPad.inputs[0] = laidOut
            newPad.outputs = transpose.outputs
            if fromInput {
                let name = graph.freshName(pad.inputs[1] + ".transposed", avoiding: &taken)
                graph.initializers[name] = Tensor(shape: [2 * rank], int64s: permuted.map { Int64($0) })
                newPad.inputs[1] = name
            } else {
                newPad.attributes["pads"] = .ints(permuted)
            }
            var newTranspose = transpose
            newTranspose.inputs = [x]
            newTranspose.outputs = [laidOut]
            graph.nodes[k] = newTranspose
            graph.nodes[t] = newPad
            dropped.formUnion(identities)
            swapped += 1
        }
        if !dropped.isEmpty { graph.nodes = graph.nodes.indices.filter { !dropped.contains($0) }.map { graph.nodes[$0] } }
        return swapped
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
