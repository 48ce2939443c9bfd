/// The operator definitions by (domain, op type): the single place that lists which ops have shape
/// inference and which can be evaluated at compile time.
package enum OperatorRegistry {
    static let onnx: [any OperatorDefinition.Type] = [
        AddOp.self, BatchNormalizationOp.self, CastOp.self, CeilOp.self, ClipOp.self, ConcatOp.self,
        ConstantOp.self, ConstantOfShapeOp.self, ConvOp.self, DivOp.self, DropoutOp.self, FlattenOp.self,
        FloorOp.self, GatherOp.self, GemmOp.self, GlobalAveragePoolOp.self, HardSigmoidOp.self, HardSwishOp.self,
        IdentityOp.self, MatMulOp.self, MulOp.self, PadOp.self, ReduceMeanOp.self, ReluOp.self, ReshapeOp.self, ResizeOp.self,
        ShapeOp.self, SigmoidOp.self, SliceOp.self, SoftmaxOp.self, SqrtOp.self, SqueezeOp.self, SubOp.self, TransposeOp.self,
        UnsqueezeOp.self,
    ]

    static let effnet: [any OperatorDefinition.Type] = [
        SiluOp.self, FusedConvOp.self, MBConvOp.self, FusedMBConvOp.self, SqueezeExciteOp.self,
    ]

    private static let byKey: [String: any OperatorDefinition.Type] = {
        var map = [String: any OperatorDefinition.Type]()
        for d in onnx + effnet { map[d.domain + "/" + d.opType] = d }
        return map
    }()

    static func definition(opType: String, domain: String) -> (any OperatorDefinition.Type)? {
        byKey[(domain == "ai.onnx" ? "" : domain) + "/" + opType]
    }

    /// Every definition's type by (domain, op type), for other modules to attach what belongs to them (the
    /// runtime's native lowering is a conformance of the op's type, written beside its kernels).
    package static let types: [(opType: String, domain: String, type: Any.Type)] = (onnx + effnet).map {
        ($0.opType, $0.domain, $0 as Any.Type)
    }
}
