/// Half-precision models (float16 or bfloat16 weights, as onnxconverter-common's `convert_float_to_float16`
/// writes them) made float32 at load.
///
/// Widening float16/bfloat16 to float32 is exact (every half value is a float), so the weights the model holds
/// are unchanged; what changes is the arithmetic, which then rounds to float32 instead of float16 after every
/// operation — the model computes what its float16 file describes, more accurately than a float16 runtime does.
extension Graph {
    /// The half-precision dtypes.
    static let halfTypes: Set<DType> = [.float16, .bfloat16]

    /// What a half-precision graph was before `widenToFloat32` made it float32.
    public struct HalfPrecision: Sendable, Equatable {
        /// The half dtype found (`widenHalfPrecision`'s result).
        public var dtype: DType
        /// The outputs that hold half values in the file's terms (`halfPrecisionOutputs`, taken before widening).
        public var outputs: [String: DType]
    }

    /// Makes a float16/bfloat16 graph float32 and says what it was: the one call a loader makes. Returns nil at once,
    /// after one scan of the declared types, initializers, `Cast` targets and attribute tensors and without any
    /// shape inference, when the graph holds no half type (and is left untouched).
    public mutating func widenToFloat32(opset: Int) -> HalfPrecision? {
        guard holdsHalfPrecision else { return nil }
        let outputs = halfPrecisionOutputs(opset: opset)
        guard let dtype = widenHalfPrecision(opset: opset) else { return nil }
        return HalfPrecision(dtype: dtype, outputs: outputs)
    }

    /// True when anything `widenHalfPrecision` widens is float16/bfloat16.
    var holdsHalfPrecision: Bool {
        func half(_ d: DType?) -> Bool { d.map(Self.halfTypes.contains) ?? false }
        if initializers.values.contains(where: { half($0.dtype) }) { return true }
        if (inputs + outputs).contains(where: { half($0.dtype) }) || valueInfo.values.contains(where: { half($0.dtype) }) {
            return true
        }
        return nodes.contains { node in
            if node.opType == "Cast", let to = node.int("to"), half(DType(onnxCode: to)) { return true }
            return node.attributes.values.contains {
                if case .tensor(let t) = $0 { return half(t.dtype) }
                return false
            }
        }
    }

    /// Widens every float16/bfloat16 initializer, `Constant`/`ConstantOfShape` value and declared type to
    /// float32, retargets `Cast`s to float16/bfloat16 at float32, and replaces each `Cast` that is then
    /// float32 → float32 (the pairs the converter puts around every half-precision region, which only changed
    /// precision) by `Identity`, which the optimizer removes. Returns the half dtype found, nil when the graph
    /// has none (and is left untouched). `opset` is for the type analysis that finds the float32 → float32 casts.
    public mutating func widenHalfPrecision(opset: Int) -> DType? {
        var found: DType?
        func widen(_ t: Tensor) -> Tensor {
            guard Self.halfTypes.contains(t.dtype) else { return t }
            found = t.dtype
            return t.converted(to: .float32)
        }
        func widen(_ v: ValueInfo) -> ValueInfo {
            guard let d = v.dtype, Self.halfTypes.contains(d) else { return v }
            found = d
            var w = v
            w.dtype = .float32
            return w
        }
        initializers = initializers.mapValues(widen)
        inputs = inputs.map(widen)
        outputs = outputs.map(widen)
        valueInfo = valueInfo.mapValues(widen)
        for i in nodes.indices {
            if nodes[i].opType == "Cast", let to = nodes[i].int("to"), let d = DType(onnxCode: to),
                Self.halfTypes.contains(d)
            {
                found = d
                nodes[i].attributes["to"] = .int(DType.float32.onnxCode)
            }
            for (key, value) in nodes[i].attributes {
                if case .tensor(let t) = value, Self.halfTypes.contains(t.dtype) {
                    nodes[i].attributes[key] = .tensor(widen(t))
                }
            }
        }
        guard found != nil else { return nil }
        // Casts that now convert float32 to float32 only copy.
        if let facts = try? ShapeInference.analyze(self, opset: opset).facts {
            for i in nodes.indices where nodes[i].opType == "Cast" && nodes[i].int("to") == DType.float32.onnxCode {
                guard let x = nodes[i].input(0), facts[x]?.dtype == .float32 else { continue }
                nodes[i].opType = "Identity"
                nodes[i].attributes = [:]
            }
        }
        return found
    }

    /// The graph outputs whose values a half-precision runtime would hold in float16/bfloat16, by name, with that
    /// type: outputs declared half, and outputs a `Cast` makes float32 from a half value (the `keep_io_types`
    /// form). effnet computes them in float32 after `widenHalfPrecision`; `Tensor.rounded(to:)` gives back the
    /// value the file's type holds, so that a bfloat16 `Add` compares with what a bfloat16 runtime computes. Call
    /// before widening. `opset` is for the type analysis of the Cast inputs.
    public func halfPrecisionOutputs(opset: Int) -> [String: DType] {
        var out = [String: DType]()
        var producers = [String: Node]()
        for node in nodes { for o in node.outputs { producers[o] = node } }
        let facts = try? ShapeInference.analyze(self, opset: opset).facts
        var declared = [String: DType]()
        for v in inputs + outputs + Array(valueInfo.values) { declared[v.name] = v.dtype }
        for (name, t) in initializers { declared[name] = t.dtype }
        func dtype(_ name: String) -> DType? { declared[name] ?? facts?[name]?.dtype }
        for output in outputs {
            if let d = dtype(output.name), Self.halfTypes.contains(d) {
                out[output.name] = d
            } else if let cast = producers[output.name], cast.opType == "Cast", let x = cast.input(0),
                let d = dtype(x), Self.halfTypes.contains(d)
            {
                out[output.name] = d
            }
        }
        return out
    }
}

extension Tensor {
    /// This float tensor rounded to the nearest `half` value (float16 or bfloat16, ties to even) and kept in its
    /// own dtype: what a half-precision runtime stores where effnet computed in float32.
    public func rounded(to half: DType) -> Tensor {
        dtype == half ? self : converted(to: half).converted(to: dtype)
    }
}
