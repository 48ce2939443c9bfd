/// A computation graph in static single assignment form: every value name is produced once, by a graph input,
/// an initializer or exactly one node output.
public struct Graph: Hashable, Sendable {
    public var name: String
    public var nodes: [Node]
    /// Runtime inputs (initializers are not listed here, even when an ONNX file also lists them as inputs).
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    /// Constant tensors by value name.
    public var initializers: [String: Tensor]
    /// Known types of intermediate values (from the file or from shape inference).
    public var valueInfo: [String: ValueInfo]

    public init(
        name: String = "main", nodes: [Node] = [], inputs: [ValueInfo] = [], outputs: [ValueInfo] = [],
        initializers: [String: Tensor] = [:], valueInfo: [String: ValueInfo] = [:]
    ) {
        self.name = name
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
        self.initializers = initializers
        self.valueInfo = valueInfo
    }

    /// Number of scalar parameters held in initializers of floating-point type.
    public var parameterCount: Int {
        initializers.values.reduce(0) { $0 + ($1.dtype.isFloatingPoint ? $1.count : 0) }
    }

    /// The index of the node producing each node output.
    public var producers: [String: Int] {
        var map = [String: Int]()
        for (i, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty { map[output] = i }
        }
        return map
    }

    /// For each value name, the indices of the nodes that read it (in node order).
    public var consumers: [String: [Int]] {
        var map = [String: [Int]]()
        for (i, node) in nodes.enumerated() {
            for input in node.inputs where !input.isEmpty { map[input, default: []].append(i) }
        }
        return map
    }

    /// The type of a value when known: graph input or output, initializer, or recorded value info.
    public func info(of value: String) -> ValueInfo? {
        if let t = initializers[value] { return ValueInfo(name: value, dtype: t.dtype, shape: Shape(t.shape)) }
        if let v = inputs.first(where: { $0.name == value }) { return v }
        if let v = valueInfo[value] { return v }
        return outputs.first(where: { $0.name == value })
    }
}

/// An entire model: the graph plus the file-level facts ONNX keeps beside it.
public struct Model: Hashable, Sendable {
    public var graph: Graph
    public var irVersion: Int
    /// Operator set versions by domain (`""` is `ai.onnx`).
    public var opsets: [String: Int]
    public var producerName: String
    public var producerVersion: String
    public var domain: String
    public var modelVersion: Int
    public var docString: String
    /// `metadata_props`, carried over on conversion.
    public var metadata: [String: String]

    public init(
        graph: Graph, irVersion: Int = 8, opsets: [String: Int] = ["": 17], producerName: String = "",
        producerVersion: String = "", domain: String = "", modelVersion: Int = 0, docString: String = "",
        metadata: [String: String] = [:]
    ) {
        self.graph = graph
        self.irVersion = irVersion
        self.opsets = opsets
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.domain = domain
        self.modelVersion = modelVersion
        self.docString = docString
        self.metadata = metadata
    }

    /// The `ai.onnx` operator set version.
    public var opset: Int { opsets[""] ?? opsets["ai.onnx"] ?? 0 }
}
