extension Graph {
    /// Multiply-accumulate count of one inference, with symbolic batch dimensions taken as 1.
    ///
    /// Conv: outputs × (C_in / group) × k_h × k_w (bias adds not counted, as in the EfficientNet papers' FLOP
    /// tables and fvcore); Gemm and MatMul: M × N × K. Elementwise ops, pooling and activations are not counted.
    /// Fused ops count their `body`. Needs shapes (run shape inference first); returns nil when a counted node's
    /// shapes are unknown.
    public func multiplyAccumulates() -> Int? {
        var total = 0
        for node in nodes {
            guard let macs = macs(of: node, scope: self) else { return nil }
            total += macs
        }
        return total
    }

    private func macs(of node: Node, scope: Graph) -> Int? {
        func shape(_ name: String) -> [Int]? {
            guard let dims = scope.info(of: name)?.shape ?? info(of: name)?.shape else { return nil }
            var out = [Int]()
            for (i, d) in dims.enumerated() {
                switch d {
                case .known(let v): out.append(v)
                default:
                    if i == 0 { out.append(1) } else { return nil }
                }
            }
            return out
        }
        if let body = node.graph("body") {
            var inner = body
            for (k, v) in valueInfo where inner.valueInfo[k] == nil { inner.valueInfo[k] = v }
            for (k, v) in initializers where inner.initializers[k] == nil { inner.initializers[k] = v }
            return inner.multiplyAccumulates()
        }
        switch node.opType {
        case "Conv", "FusedConv":
            guard let w = shape(node.inputs[1]), let y = node.outputs.first.flatMap(shape) else { return nil }
            return y.reduce(1, *) * w.dropFirst().reduce(1, *)
        case "Gemm":
            guard let a = shape(node.inputs[0]), let y = node.outputs.first.flatMap(shape), a.count == 2 else {
                return nil
            }
            let k = (node.int("transA") ?? 0) != 0 ? a[0] : a[1]
            return y.reduce(1, *) * k
        case "MatMul":
            guard let a = shape(node.inputs[0]), let y = node.outputs.first.flatMap(shape), let k = a.last else {
                return nil
            }
            return y.reduce(1, *) * k
        default:
            return 0
        }
    }
}
