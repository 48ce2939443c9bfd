import IR

/// A small helper for writing test graphs by hand: nodes get unique names, constants become initializers.
struct GraphBuilder {
    var nodes = [Node]()
    var initializers = [String: Tensor]()
    private var counter = 0

    /// Adds a node and returns its first output's name (`<name>_out`).
    @discardableResult
    mutating func add(
        _ op: String, _ inputs: [String], name: String? = nil, outputs: Int = 1, domain: String = "",
        _ attributes: [String: Attribute] = [:]
    ) -> String {
        counter += 1
        let n = name ?? "\(op.lowercased())\(counter)"
        let outs = (0..<outputs).map { $0 == 0 ? "\(n)_out" : "\(n)_out\($0)" }
        nodes.append(Node(name: n, opType: op, domain: domain, inputs: inputs, outputs: outs, attributes: attributes))
        return outs[0]
    }

    /// Adds an initializer and returns its name.
    mutating func constant(_ t: Tensor, name: String? = nil) -> String {
        counter += 1
        let n = name ?? "const\(counter)"
        initializers[n] = t
        return n
    }

    mutating func float(_ v: Float) -> String { constant(Tensor(shape: [], floats: [v])) }
    mutating func ints(_ v: [Int64]) -> String { constant(Tensor(shape: [v.count], int64s: v)) }
    mutating func scalar(_ v: Int64) -> String { constant(Tensor(shape: [], int64s: [v])) }

    func graph(inputs: [ValueInfo], outputs: [String]) -> Graph {
        Graph(
            name: "test", nodes: nodes, inputs: inputs,
            outputs: outputs.map { ValueInfo(name: $0, dtype: nil, shape: nil) }, initializers: initializers)
    }

    /// timm's dynamic TF "SAME" padding as torch.onnx.export writes it for `tf_` models (one spatial axis):
    /// pad = max((⌈in/s⌉ − 1)·s + (k−1)·d + 1 − in, 0), split as ⌊pad/2⌋ before and the rest after, computed
    /// in float from `Shape(x)[axis]`. Returns (before, after) as 0-d float values.
    mutating func samePad(_ x: String, axis: Int64, kernel: Int, stride: Int, dilation: Int = 1) -> (String, String) {
        let shape = add("Shape", [x])
        let size = add("Gather", [shape, scalar(axis)], ["axis": .int(0)])
        let sizeF = add("Cast", [size], ["to": .int(1)])
        let q = add("Div", [sizeF, float(Float(stride))])
        let outSize = add("Ceil", [q])
        let t1 = add("Sub", [outSize, float(1)])
        let t2 = add("Mul", [t1, float(Float(stride))])
        let t3 = add("Add", [t2, float(Float((kernel - 1) * dilation))])
        let t4 = add("Add", [t3, float(1)])
        let total = add("Sub", [t4, add("Cast", [size], ["to": .int(1)])])
        let clipped = add("Clip", [total, float(0), ""])
        let half = add("Div", [clipped, float(2)])
        let before = add("Cast", [add("Cast", [half], ["to": .int(7)])], ["to": .int(1)])
        let after = add("Sub", [clipped, before])
        return (before, after)
    }

    /// `F.pad(x, [left, right, top, bottom])` as the TorchScript exporter writes it: the torch-order pads are
    /// concatenated with zeros for the leading axes, reshaped to pairs, reversed, transposed and flattened into
    /// ONNX order before `Pad`. Returns the Pad output and the name of its `pads` input.
    mutating func torchPad(_ x: String, rank: Int, torchPads: [String]) -> (output: String, pads: String) {
        let parts = torchPads.map { add("Unsqueeze", [$0, ints([0])]) }
        let joined = add("Concat", parts, ["axis": .int(0)])
        let joinedInt = add("Cast", [joined], ["to": .int(7)])
        let count = add("Gather", [add("Shape", [joined]), ints([0])], ["axis": .int(0)])
        let zeros = add(
            "ConstantOfShape", [add("Sub", [scalar(Int64(2 * rank)), count])],
            ["value": .tensor(Tensor(shape: [1], int64s: [0]))])
        let all = add("Concat", [joinedInt, zeros], ["axis": .int(0)])
        let pairs = add("Reshape", [all, ints([-1, 2])])
        let reversed = add("Slice", [pairs, ints([-1]), ints([Int64.min + 1]), ints([0]), ints([-1])])
        let transposed = add("Transpose", [reversed], ["perm": .ints([1, 0])])
        let flat = add("Reshape", [transposed, ints([-1])])
        let pads = add("Cast", [flat], ["to": .int(7)])
        return (add("Pad", [x, pads, float(0)], name: "pad", ["mode": .string("constant")]), pads)
    }
}
