import IR

/// Appends ONNX nodes with readable names; every node's output value carries the node's name
/// (`blocks.3.0.conv_pw`), so dumps, errors and divergence reports point at the framework's layer.
struct GraphEmitter {
    var nodes = [Node]()
    var initializers = [String: Tensor]()
    let weights: ModelWeights
    let padding: PaddingStyle
    let samePadding: BuildOptions.SamePadding
    let epsilon: Float
    /// The blocks' and head's activation: `silu` (EfficientNet, V2), `relu6` (EfficientNet-Lite) or `relu`.
    let activation: String

    init(
        weights: ModelWeights, padding: PaddingStyle, samePadding: BuildOptions.SamePadding, epsilon: Float,
        activation: String = "silu"
    ) {
        self.weights = weights
        self.padding = padding
        self.samePadding = samePadding
        self.epsilon = epsilon
        self.activation = activation
    }

    /// Registers a canonical weight as an initializer under its own name.
    mutating func weight(_ name: String) throws -> String {
        guard let t = weights[name] else { throw CheckpointError.cannotInfer("no weights for '\(name)'") }
        initializers[name] = t
        return name
    }

    mutating func constant(_ name: String, _ tensor: Tensor) -> String {
        initializers[name] = tensor
        return name
    }

    @discardableResult
    mutating func node(
        _ name: String, _ op: String, _ inputs: [String], attributes: [String: Attribute] = [:]
    ) -> String {
        nodes.append(Node(name: name, opType: op, inputs: inputs, outputs: [name], attributes: attributes))
        return name
    }

    /// Conv with the framework's padding. `size` is the square input size when known, updated to the output size.
    ///
    /// Symmetric: `(k − 1) / 2` each side. TF SAME: the same when stride is 1 and k odd (size-independent);
    /// otherwise `auto_pad = SAME_UPPER` (ONNX's definition equals TF's: total `max((⌈i/s⌉ − 1)·s + k − i, 0)`,
    /// the extra pixel at the end), or, with `.explicit`, that padding computed for `size`.
    mutating func conv(
        _ name: String, _ input: String, kernel k: Int, stride s: Int, group: Int, bias: Bool, size: inout Int?
    ) throws -> String {
        var inputs = [input, try weight(name + ".weight")]
        if bias { inputs.append(try weight(name + ".bias")) }
        var attributes: [String: Attribute] = [
            "kernel_shape": .ints([k, k]), "strides": .ints([s, s]), "dilations": .ints([1, 1]), "group": .int(group),
        ]
        let symmetric = (k - 1) / 2
        if padding == .symmetric || (s == 1 && k % 2 == 1) {
            attributes["pads"] = .ints([symmetric, symmetric, symmetric, symmetric])
            size = size.map { ($0 + 2 * symmetric - k) / s + 1 }
        } else if samePadding == .explicit, let i = size {
            let out = (i + s - 1) / s
            let total = max((out - 1) * s + k - i, 0)
            let before = total / 2
            attributes["pads"] = .ints([before, before, total - before, total - before])
            size = out
        } else {
            attributes["auto_pad"] = .string("SAME_UPPER")
            size = size.map { ($0 + s - 1) / s }
        }
        return node(name, "Conv", inputs, attributes: attributes)
    }

    /// Inference BatchNormalization: `y = γ · (x − μ) / √(σ² + ε) + β`, weights `<prefix>.weight/bias/running_*`.
    mutating func batchNorm(_ name: String, _ input: String) throws -> String {
        let inputs =
            [input] + (try ["weight", "bias", "running_mean", "running_var"].map { try weight(name + "." + $0) })
        return node(name, "BatchNormalization", inputs, attributes: ["epsilon": .float(epsilon)])
    }

    /// SiLU as ONNX has no such op before opset 24: `x · σ(x)`.
    mutating func silu(_ name: String, _ input: String) -> String {
        let gate = node(name + ".sigmoid", "Sigmoid", [input])
        return node(name, "Mul", [input, gate])
    }

    /// The network's activation: SiLU as `x · σ(x)`, ReLU6 as `Clip(x, 0, 6)`, ReLU.
    mutating func act(_ name: String, _ input: String) -> String {
        switch activation {
        case "relu6":
            let lo = constant("relu6.min", .scalar(Float(0)))
            let hi = constant("relu6.max", .scalar(Float(6)))
            return node(name, "Clip", [input, lo, hi])
        case "relu": return node(name, "Relu", [input])
        default: return silu(name, input)
        }
    }

    /// Conv → BatchNorm → optional activation, the unit every framework repeats.
    mutating func convNormAct(
        conv: String, norm: String, _ input: String, kernel: Int, stride: Int, group: Int = 1, act: Bool,
        size: inout Int?
    ) throws -> String {
        let c = try self.conv(conv, input, kernel: kernel, stride: stride, group: group, bias: false, size: &size)
        let n = try batchNorm(norm, c)
        return act ? self.act(norm + ".act", n) : n
    }

    /// Squeeze-excitation: `x · σ(W₂ · act(W₁ · mean_hw(x) + b₁) + b₂)` (act: the block's, SiLU in every
    /// EfficientNet with SE).
    mutating func squeezeExcite(_ prefix: String, _ input: String) throws -> String {
        var none: Int? = nil
        let pooled = node(prefix + ".pool", "GlobalAveragePool", [input])
        let reduced = try conv(prefix + ".conv_reduce", pooled, kernel: 1, stride: 1, group: 1, bias: true, size: &none)
        let act = self.act(prefix + ".act", reduced)
        let expanded = try conv(prefix + ".conv_expand", act, kernel: 1, stride: 1, group: 1, bias: true, size: &none)
        let gate = node(prefix + ".gate", "Sigmoid", [expanded])
        return node(prefix, "Mul", [input, gate])
    }
}
