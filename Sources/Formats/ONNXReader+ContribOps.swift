import IR

/// onnxruntime's contrib operators (domain `com.microsoft`) that its optimized model files contain, read as the
/// standard operators they stand for, so the rest of effnet sees one vocabulary:
///
/// - `QuickGelu(x; alpha)`: y = x·σ(α·x) → `Sigmoid` and `Mul` (with α = 1, onnxruntime's fusion of SiLU, this is
///   exactly the x·σ(x) that `recognize-activations` turns into SiLU); other α get a `Mul` by α first.
/// - `FusedConv(X, W, B?, Z?; activation, activation_params, conv attributes)`: y = act(Conv(X, W, B) + Z) →
///   `Conv` (+ `Add` of Z) + the activation: Relu, Sigmoid, Tanh-free set effnet runs (Relu, Sigmoid,
///   HardSigmoid with α, β = activation_params, Clip with min, max = activation_params). Other activations are
///   left as they are, and reported as unsupported.
enum ContribOps {
    static let domain = "com.microsoft"

    /// `nodes` with every recognised contrib node replaced by its standard equivalent (names derived from the
    /// node's, kept unique by a suffix).
    static func expand(_ nodes: [Node]) -> [Node] {
        guard nodes.contains(where: { $0.domain == domain }) else { return nodes }
        var out = [Node]()
        out.reserveCapacity(nodes.count)
        for node in nodes {
            guard node.domain == domain, let expanded = expand(node) else {
                out.append(node)
                continue
            }
            out.append(contentsOf: expanded)
        }
        return out
    }

    static func expand(_ node: Node) -> [Node]? {
        let base = node.outputs.first ?? node.name
        switch node.opType {
        case "QuickGelu":
            guard node.inputs.count == 1, node.outputs.count == 1 else { return nil }
            let x = node.inputs[0]
            let alpha = node.float("alpha") ?? 1.702
            var nodes = [Node]()
            var gateInput = x
            if alpha != 1 {
                let a = base + ".quickgelu_alpha"
                gateInput = base + ".quickgelu_scaled"
                nodes.append(
                    Node(name: node.name + "/alpha", opType: "Constant", inputs: [], outputs: [a],
                         attributes: ["value": .tensor(.scalar(alpha))]))
                nodes.append(Node(name: node.name + "/scale", opType: "Mul", inputs: [x, a], outputs: [gateInput]))
            }
            let gate = base + ".quickgelu_gate"
            nodes.append(Node(name: node.name + "/Sigmoid", opType: "Sigmoid", inputs: [gateInput], outputs: [gate]))
            nodes.append(Node(name: node.name + "/Mul", opType: "Mul", inputs: [x, gate], outputs: node.outputs))
            return nodes
        case "FusedConv":
            guard (2...4).contains(node.inputs.count), node.outputs.count == 1 else { return nil }
            let activation = node.string("activation") ?? ""
            let params = node.floats("activation_params") ?? []
            var convAttributes = node.attributes
            convAttributes["activation"] = nil
            convAttributes["activation_params"] = nil
            let hasSum = node.inputs.count == 4 && !node.inputs[3].isEmpty
            var nodes = [Node]()
            let convOut = activation.isEmpty && !hasSum ? node.outputs[0] : base + ".conv"
            nodes.append(
                Node(name: node.name, opType: "Conv", inputs: Array(node.inputs.prefix(3)), outputs: [convOut],
                     attributes: convAttributes))
            var y = convOut
            if hasSum {
                let sum = activation.isEmpty ? node.outputs[0] : base + ".sum"
                nodes.append(Node(name: node.name + "/Add", opType: "Add", inputs: [y, node.inputs[3]], outputs: [sum]))
                y = sum
            }
            switch activation {
            case "": break
            case "Relu", "Sigmoid":
                nodes.append(Node(name: node.name + "/" + activation, opType: activation, inputs: [y], outputs: node.outputs))
            case "HardSigmoid":
                guard params.count == 2 else { return nil }
                nodes.append(
                    Node(name: node.name + "/HardSigmoid", opType: "HardSigmoid", inputs: [y], outputs: node.outputs,
                         attributes: ["alpha": .float(params[0]), "beta": .float(params[1])]))
            case "Clip":
                guard params.count == 2 else { return nil }
                let lo = base + ".clip_min"
                let hi = base + ".clip_max"
                nodes.append(Node(name: node.name + "/min", opType: "Constant", inputs: [], outputs: [lo],
                                  attributes: ["value": .tensor(.scalar(params[0]))]))
                nodes.append(Node(name: node.name + "/max", opType: "Constant", inputs: [], outputs: [hi],
                                  attributes: ["value": .tensor(.scalar(params[1]))]))
                nodes.append(Node(name: node.name + "/Clip", opType: "Clip", inputs: [y, lo, hi], outputs: node.outputs))
            default: return nil
            }
            return nodes
        default: return nil
        }
    }
}
