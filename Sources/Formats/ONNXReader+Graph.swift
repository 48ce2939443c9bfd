import CProtobufC
import IR
import ONNXProto

/// Graphs, nodes, attributes and value types: `GraphProto` → `Graph`.
extension ONNXDecoder {
    func graph(_ proto: Onnx__GraphProto, depth: Int) throws -> Graph {
        let name = ONNXC.string(proto.name)
        let scope = name.isEmpty ? "graph" : "graph '\(name)'"
        guard depth <= Self.maximumGraphDepth else {
            throw ONNXReadError.graph(
                file: file, problem: "sub-graphs nested deeper than \(Self.maximumGraphDepth) levels")
        }
        if proto.n_sparse_initializer > 0 {
            throw ONNXReadError.graph(file: file, problem: "\(scope): sparse initializers are not supported")
        }

        var initializers = [String: Tensor]()
        let payloads = depth == 0 ? self.payloads : nil
        for (index, entry) in ONNXC.buffer(proto.initializer, proto.n_initializer).enumerated() {
            guard let entry else { continue }
            let tensorName = ONNXC.string(entry.pointee.name)
            guard !tensorName.isEmpty else {
                throw ONNXReadError.graph(file: file, problem: "\(scope): an initializer has no name")
            }
            guard initializers[tensorName] == nil else {
                throw ONNXReadError.graph(
                    file: file, problem: "\(scope): initializer '\(tensorName)' is defined twice")
            }
            initializers[tensorName] = try tensor(entry.pointee, name: tensorName, payload: payloads?.entry(index))
        }

        // Before IR version 4 every initializer also had to be listed as a graph input; such inputs are not fed
        // at run time, so they are dropped here (the writer lists them again only for IR versions below 4).
        var inputs = [ValueInfo]()
        for entry in ONNXC.buffer(proto.input, proto.n_input) {
            guard let entry else { continue }
            if initializers[ONNXC.string(entry.pointee.name)] != nil { continue }
            inputs.append(try valueInfo(entry.pointee, role: "input"))
        }
        var outputs = [ValueInfo]()
        for entry in ONNXC.buffer(proto.output, proto.n_output) {
            guard let entry else { continue }
            outputs.append(try valueInfo(entry.pointee, role: "output"))
        }
        var valueInfo = [String: ValueInfo]()
        for entry in ONNXC.buffer(proto.value_info, proto.n_value_info) {
            guard let entry, let info = try? self.valueInfo(entry.pointee, role: "value_info") else { continue }
            valueInfo[info.name] = info
        }

        var nodes = [Node]()
        nodes.reserveCapacity(proto.n_node)
        for entry in ONNXC.buffer(proto.node, proto.n_node) {
            guard let entry else { continue }
            nodes.append(try node(entry.pointee, depth: depth))
        }
        nodes = ContribOps.expand(nodes)
        return Graph(
            name: name, nodes: nodes, inputs: inputs, outputs: outputs, initializers: initializers,
            valueInfo: valueInfo)
    }

    /// A graph input, output or `value_info` entry. Inputs and outputs must be tensors of a supported element
    /// type; `value_info` entries that are not are dropped by the caller (they only help shape inference).
    func valueInfo(_ proto: Onnx__ValueInfoProto, role: String) throws -> ValueInfo {
        let name = ONNXC.string(proto.name)
        guard let type = proto.type else { return ValueInfo(name: name, dtype: nil, shape: nil) }
        let kind = type.pointee.value_case
        guard kind == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, let tensorType = type.pointee.tensor_type else {
            if kind == ONNX__TYPE_PROTO__VALUE__NOT_SET { return ValueInfo(name: name, dtype: nil, shape: nil) }
            let what =
                switch kind {
                case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE: "a sequence"
                case ONNX__TYPE_PROTO__VALUE_MAP_TYPE: "a map"
                case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE: "an optional"
                case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE: "a sparse tensor"
                default: "an opaque value"
                }
            throw ONNXReadError.graph(file: file, problem: "graph \(role) '\(name)' is \(what), not a tensor")
        }
        var dtype: DType?
        if tensorType.pointee.has_elem_type != 0, tensorType.pointee.elem_type != 0 {
            let code = tensorType.pointee.elem_type
            guard let known = ONNXDataType.dtype(of: code) else {
                throw ONNXReadError.graph(
                    file: file,
                    problem: "graph \(role) '\(name)' has element type \(ONNXDataType.name(of: code)), "
                        + "which effnet does not support")
            }
            dtype = known
        }
        var shape: Shape?
        if let shapeProto = tensorType.pointee.shape {
            shape = ONNXC.buffer(shapeProto.pointee.dim, shapeProto.pointee.n_dim).map { entry -> Dim in
                guard let dim = entry?.pointee else { return .unknown }
                switch dim.value_case {
                case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE:
                    return dim.dim_value >= 0 ? .known(Int(dim.dim_value)) : .unknown
                case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM:
                    let symbol = ONNXC.string(dim.dim_param)
                    return symbol.isEmpty ? .unknown : .symbol(symbol)
                default:
                    return .unknown
                }
            }
        }
        return ValueInfo(name: name, dtype: dtype, shape: shape)
    }

    func node(_ proto: Onnx__NodeProto, depth: Int) throws -> Node {
        var node = Node(
            name: ONNXC.string(proto.name), opType: ONNXC.string(proto.op_type), domain: ONNXC.string(proto.domain),
            inputs: ONNXC.buffer(proto.input, proto.n_input).map { ONNXC.string($0) },
            outputs: ONNXC.buffer(proto.output, proto.n_output).map { ONNXC.string($0) })
        let label = node.label
        for entry in ONNXC.buffer(proto.attribute, proto.n_attribute) {
            guard let entry else { continue }
            let key = ONNXC.string(entry.pointee.name)
            guard !key.isEmpty else {
                throw ONNXReadError.node(file: file, node: label, problem: "an attribute has no name")
            }
            guard node.attributes[key] == nil else {
                throw ONNXReadError.node(file: file, node: label, problem: "attribute '\(key)' appears twice")
            }
            node.attributes[key] = try attribute(entry.pointee, key: key, node: label, depth: depth)
        }
        if node.opType == "Constant", node.domain.isEmpty || node.domain == "ai.onnx" {
            node.attributes = ["value": .tensor(try constantValue(node))]
        }
        return node
    }

    /// The one tensor a `Constant` node produces, decoded by the IR's `ConstantOp.value`, so that downstream code
    /// sees a single form.
    func constantValue(_ node: Node) throws -> Tensor {
        do {
            return try ConstantOp.value(node)
        } catch IRError.invalidNode(_, let message) {
            throw ONNXReadError.node(file: file, node: node.label, problem: message)
        }
    }

    func attribute(_ proto: Onnx__AttributeProto, key: String, node: String, depth: Int) throws -> Attribute {
        func fail(_ problem: String) -> ONNXReadError {
            .node(file: file, node: node, problem: "attribute '\(key)' \(problem)")
        }
        let reference = ONNXC.string(proto.ref_attr_name)
        guard reference.isEmpty else {
            throw fail("refers to function attribute '\(reference)', which only functions may use")
        }
        switch proto.has_type != 0 ? proto.type : Self.inferredType(proto) {
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return .float(proto.f)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return .int(Int(proto.i))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: return .string(ONNXC.string(proto.s))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
            return .floats(Array(ONNXC.buffer(proto.floats, proto.n_floats)))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
            return .ints(ONNXC.buffer(proto.ints, proto.n_ints).map { Int($0) })
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
            return .strings(ONNXC.buffer(proto.strings, proto.n_strings).map { ONNXC.string($0) })
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
            guard let t = proto.t else { throw fail("has type TENSOR but holds no tensor") }
            let name = ONNXC.string(t.pointee.name)
            return .tensor(try tensor(t.pointee, name: name.isEmpty ? "\(node).\(key)" : name))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
            guard let g = proto.g else { throw fail("has type GRAPH but holds no graph") }
            return .graph(try graph(g.pointee, depth: depth + 1))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED:
            throw fail("has no type and no value")
        case let other:
            throw fail("has type \(Self.attributeTypeName(other)), which effnet does not support")
        }
    }

    /// IR version 1 files may omit `type`; the set field tells it (ONNX's own `has_field` heuristic).
    static func inferredType(_ proto: Onnx__AttributeProto) -> Onnx__AttributeProto__AttributeType {
        if proto.has_f != 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT }
        if proto.has_i != 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT }
        if proto.has_s != 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING }
        if proto.t != nil { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR }
        if proto.g != nil { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH }
        if proto.n_floats > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS }
        if proto.n_ints > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS }
        if proto.n_strings > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS }
        if proto.n_tensors > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS }
        if proto.n_graphs > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS }
        return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED
    }

    static func attributeTypeName(_ type: Onnx__AttributeProto__AttributeType) -> String {
        switch type.rawValue {
        case 9: "TENSORS"
        case 10: "GRAPHS"
        case 11: "SPARSE_TENSOR"
        case 12: "SPARSE_TENSORS"
        case 13: "TYPE_PROTO"
        case 14: "TYPE_PROTOS"
        default: "code \(type.rawValue)"
        }
    }
}
