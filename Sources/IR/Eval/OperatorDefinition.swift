/// Shape inference and, for light operators, compile-time evaluation of one operator in ONNX semantics.
///
/// One conforming type per file under `Sources/IR/Ops`. `infer` must accept partial knowledge (unknown rank,
/// symbolic or unknown dims, unknown values) and throw only on a definite contradiction (channels that cannot
/// match, shapes that cannot broadcast), naming the node. `evaluate` gets every present input as a tensor.
protocol OperatorDefinition: SendableMetatype {
    static var opType: String { get }
    /// `""` for `ai.onnx`.
    static var domain: String { get }
    /// Whether `evaluate` is implemented (the op is cheap and its result is a pure function of its inputs).
    static var isEvaluable: Bool { get }
    static func infer(_ context: InferenceContext) throws -> [ValueFacts]
    static func evaluate(_ context: EvaluationContext) throws -> [Tensor]
    /// The scalar reference on concrete inputs (Double arithmetic, rounded once to the dtype): what the reference
    /// interpreter runs. `evaluate` for the light ops; the heavy ones (convolutions, matrix products, normalization,
    /// pooling, Softmax) implement it beside their definition and stay out of constant folding (not `isEvaluable`).
    static func reference(_ context: EvaluationContext) throws -> [Tensor]
}

extension OperatorDefinition {
    static var domain: String { "" }
    static var isEvaluable: Bool { false }
    static func evaluate(_ context: EvaluationContext) throws -> [Tensor] {
        throw context.fail("\(opType) cannot be evaluated at compile time")
    }
    static func reference(_ context: EvaluationContext) throws -> [Tensor] { try evaluate(context) }
}

/// What `infer` sees: the node, the opset and the facts known about each input.
struct InferenceContext {
    let node: Node
    let opset: Int
    /// One entry per node input; nil for an omitted optional input.
    let inputs: [ValueFacts?]
    /// What is known of the enclosing graphs' initializers, which the bodies of fused nodes read by name.
    let scope: [String: ValueFacts]

    func fail(_ message: String) -> IRError { .invalidNode(node: node.label, message: message) }

    /// Facts of input `i`, or nil when it is absent.
    func input(_ i: Int) -> ValueFacts? { i < inputs.count ? inputs[i] : nil }

    /// Facts of input `i`, which the operator requires.
    func required(_ i: Int, _ role: String) throws -> ValueFacts {
        guard let facts = input(i) else { throw fail("missing required input \(i) (\(role))") }
        return facts
    }

    func shape(_ i: Int) -> Shape? { input(i)?.shape }
    func dtype(_ i: Int) -> DType? { input(i)?.dtype }
    func constant(_ i: Int) -> Tensor? { input(i)?.constant }
}

/// What `evaluate` sees: the node, the opset and every present input as a tensor.
struct EvaluationContext {
    let node: Node
    let opset: Int
    /// One entry per node input; nil for an omitted optional input.
    let inputs: [Tensor?]

    init(node: Node, opset: Int, inputs: [Tensor?]) {
        self.node = node
        self.opset = opset
        self.inputs = inputs
    }

    func fail(_ message: String) -> IRError { .invalidNode(node: node.label, message: message) }

    func input(_ i: Int) -> Tensor? { i < inputs.count ? inputs[i] : nil }

    func required(_ i: Int, _ role: String) throws -> Tensor {
        guard let t = input(i) else { throw fail("missing required input \(i) (\(role))") }
        return t
    }
}

/// Facts with type and shape only, the common result of inference.
func facts(_ dtype: DType?, _ shape: Shape?) -> ValueFacts { ValueFacts(dtype: dtype, shape: shape) }

// MARK: - Attribute and axis helpers

extension Node {
    /// A required integer list attribute.
    func requiredInts(_ key: String) throws -> [Int] {
        guard let v = ints(key) else { throw IRError.invalidNode(node: label, message: "missing attribute '\(key)'") }
        return v
    }
}

/// Maps an axis in `-rank..<rank` to `0..<rank`.
func normalizedAxis(_ axis: Int, rank: Int, node: Node) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < rank else {
        throw IRError.invalidNode(node: node.label, message: "axis \(axis) is out of range for rank \(rank)")
    }
    return a
}

/// Normalizes a list of axes and rejects duplicates.
func normalizedAxes(_ axes: [Int], rank: Int, node: Node) throws -> [Int] {
    let out = try axes.map { try normalizedAxis($0, rank: rank, node: node) }
    guard Set(out).count == out.count else {
        throw IRError.invalidNode(node: node.label, message: "repeated axis in \(axes)")
    }
    return out
}

/// Row-major strides of a concrete shape.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[d] = s
        s *= shape[d]
    }
    return strides
}
