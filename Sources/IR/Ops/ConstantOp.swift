/// `Constant`: a tensor held in an attribute — `value` (any tensor), or from opset 12 `value_float`,
/// `value_floats` (float32), `value_int`, `value_ints` (int64). Strings and sparse values are not supported.
package enum ConstantOp: OperatorDefinition {
    static let opType = "Constant"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { [ValueFacts(constant: try value(c.node))] }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] { [try value(c.node)] }

    static func value(_ node: Node) throws -> Tensor {
        for (key, attribute) in node.attributes {
            switch (key, attribute) {
            case ("value", .tensor(let t)): return t
            case ("value_float", .float(let v)): return Tensor(shape: [], floats: [v])
            case ("value_floats", .floats(let v)): return Tensor(shape: [v.count], floats: v)
            case ("value_int", .int(let v)): return Tensor(shape: [], int64s: [Int64(v)])
            case ("value_ints", .ints(let v)): return Tensor(shape: [v.count], int64s: v.map { Int64($0) })
            default: continue
            }
        }
        let keys = node.attributes.keys.sorted().joined(separator: ", ")
        throw IRError.invalidNode(
            node: node.label,
            message: "Constant has no supported value attribute (has: \(keys.isEmpty ? "none" : keys))")
    }
}
