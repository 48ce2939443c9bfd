/// `Dropout` at inference: the output is the input and the optional mask is all true (before opset 10 the
/// mask has the input's type, so all ones). `training_mode` (opset 12 input) must not be true.
package enum DropoutOp: OperatorDefinition {
    static let opType = "Dropout"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "data")
        if let t = c.input(2)?.constant, t.count == 1, t.doubles[0] != 0 {
            throw c.fail("training_mode = true is not supported (inference only)")
        }
        if c.opset < 7, c.node.int("is_test") == 0 { throw c.fail("is_test = 0 (training) is not supported") }
        var out = [x]
        if c.node.outputs.count > 1 { out.append(facts(c.opset < 10 ? x.dtype : .bool, x.shape)) }
        return out
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let x = try c.required(0, "data")
        if let t = c.input(2), t.count == 1, t.doubles[0] != 0 {
            throw c.fail("training_mode = true is not supported (inference only)")
        }
        var out = [x]
        if c.node.outputs.count > 1 {
            let ones = [Double](repeating: 1, count: x.count)
            out.append(Tensor(dtype: c.opset < 10 ? x.dtype : .bool, shape: x.shape, values: ones))
        }
        return out
    }
}
