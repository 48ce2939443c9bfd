/// `Constant`: a tensor held in an attribute — `value` (any tensor), or from opset 12 `value_float`,
/// `value_floats` (float32), `value_int`, `value_ints` (int64). Strings and sparse values are not supported.
package enum ConstantOp: OperatorDefinition {
    static let opType = "Constant"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { [ValueFacts(constant: try value(c.node))] }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] { [try value(c.node)] }

    /// The one tensor a `Constant` node holds, whichever attribute holds it: `value` as it is, `value_float` → float32
    /// scalar, `value_floats` → float32 vector, `value_int` → int64 scalar, `value_ints` → int64 vector (ONNX
    /// semantics). The one place that decodes a Constant: the ONNX reader stores every Constant as its `value`.
    package static func value(_ node: Node) throws -> Tensor {
        let fail = { (m: String) in IRError.invalidNode(node: node.label, message: m) }
        guard node.attributes.count == 1, let (key, attribute) = node.attributes.first else {
            let keys = node.attributes.keys.sorted().joined(separator: ", ")
            throw fail("Constant needs exactly one value attribute, found [\(keys)]")
        }
        switch (key, attribute) {
        case ("value", .tensor(let t)): return t
        case ("value_float", .float(let v)): return Tensor(shape: [], floats: [v])
        case ("value_floats", .floats(let v)): return Tensor(shape: [v.count], floats: v)
        case ("value_int", .int(let v)): return Tensor(shape: [], int64s: [Int64(v)])
        case ("value_ints", .ints(let v)): return Tensor(shape: [v.count], int64s: v.map { Int64($0) })
        case ("value_string", _), ("value_strings", _), ("sparse_value", _):
            throw fail(
                "a Constant attribute '\(key)' (strings or a sparse tensor) is not supported; only value, value_float(s) and value_int(s)"
            )
        default: throw fail("Constant attribute '\(key)' is not a Constant value of that type")
        }
    }

    /// The tensor of `node` when it is a standard `Constant` whose value decodes; nil otherwise. What passes that
    /// look for constants (an initializer or a Constant's output) ask.
    package static func tensor(of node: Node) -> Tensor? {
        guard node.opType == opType, node.domain.isEmpty || node.domain == "ai.onnx" else { return nil }
        return try? value(node)
    }
}
