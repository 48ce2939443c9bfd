import CProtobufC
import IR
import ONNXProto

/// Builds the protobuf-c message tree of a `Model` in an arena: `Model` → `ModelProto`.
///
/// Dictionaries (initializers, attributes, value info, opsets, metadata) are written sorted by name so that the
/// same model always packs to the same bytes.
struct ONNXEncoder {
    let arena: ONNXProtoArena
    /// Where large initializers go when writing external data; nil keeps everything inside the protobuf.
    let layout: ONNXExternalLayout?
    let irVersion: Int

    func model(_ model: Model, opset: Int, options: ONNXWriteOptions) -> UnsafeMutablePointer<Onnx__ModelProto> {
        let proto = arena.message(onnx__model_proto__init)
        proto.pointee.has_ir_version = 1
        proto.pointee.ir_version = Int64(irVersion)

        var opsets = model.opsets
        opsets["ai.onnx"] = nil
        opsets[OpSupport.effnetDomain] = nil
        opsets[""] = opset
        // ONNX requires an opset import for every domain a node uses.
        for domain in Self.domains(in: model.graph) where opsets[domain] == nil { opsets[domain] = 1 }
        let opsetProtos = opsets.sorted { $0.key < $1.key }.map { domain, version in
            let entry = arena.message(onnx__operator_set_id_proto__init)
            entry.pointee.domain = arena.string(domain)
            entry.pointee.has_version = 1
            entry.pointee.version = Int64(version)
            return entry
        }
        proto.pointee.n_opset_import = opsetProtos.count
        proto.pointee.opset_import = arena.pointers(opsetProtos)

        proto.pointee.producer_name = arena.optionalString(options.producerName)
        proto.pointee.producer_version = arena.optionalString(options.producerVersion)
        proto.pointee.domain = arena.optionalString(model.domain)
        if model.modelVersion != 0 {
            proto.pointee.has_model_version = 1
            proto.pointee.model_version = Int64(model.modelVersion)
        }
        proto.pointee.doc_string = arena.optionalString(model.docString)
        proto.pointee.graph = graph(model.graph)

        let metadata = model.metadata.sorted { $0.key < $1.key }.map { entry(key: $0.key, value: $0.value) }
        proto.pointee.n_metadata_props = metadata.count
        proto.pointee.metadata_props = arena.pointers(metadata)
        return proto
    }

    func graph(_ graph: Graph) -> UnsafeMutablePointer<Onnx__GraphProto> {
        let proto = arena.message(onnx__graph_proto__init)
        // onnx.checker requires a non-empty graph name.
        proto.pointee.name = arena.string(graph.name.isEmpty ? "main" : graph.name)

        let nodes = graph.nodes.map(node)
        proto.pointee.n_node = nodes.count
        proto.pointee.node = arena.pointers(nodes)

        let names = graph.initializers.keys.sorted()
        let initializers = names.map { tensor(graph.initializers[$0]!, name: $0, allowExternal: true) }
        proto.pointee.n_initializer = initializers.count
        proto.pointee.initializer = arena.pointers(initializers)

        var inputs = graph.inputs.map(valueInfo)
        if irVersion < 4 {
            // Before IR 4 every initializer must also be a graph input.
            inputs += names.map { name in
                let t = graph.initializers[name]!
                return valueInfo(ValueInfo(name: name, dtype: t.dtype, shape: Shape(t.shape)))
            }
        }
        proto.pointee.n_input = inputs.count
        proto.pointee.input = arena.pointers(inputs)

        let outputs = graph.outputs.map(valueInfo)
        proto.pointee.n_output = outputs.count
        proto.pointee.output = arena.pointers(outputs)

        // Entries without an element type carry too little for ONNX tools (the checker requires elem_type).
        let known = graph.valueInfo.keys.sorted().compactMap { graph.valueInfo[$0] }.filter { $0.dtype != nil }
        let infos = known.map(valueInfo)
        proto.pointee.n_value_info = infos.count
        proto.pointee.value_info = arena.pointers(infos)
        return proto
    }

    func node(_ node: Node) -> UnsafeMutablePointer<Onnx__NodeProto> {
        let proto = arena.message(onnx__node_proto__init)
        // Repeated strings must not be NULL: an omitted optional input is an explicit "".
        proto.pointee.n_input = node.inputs.count
        proto.pointee.input = arena.pointers(node.inputs.map(arena.string))
        proto.pointee.n_output = node.outputs.count
        proto.pointee.output = arena.pointers(node.outputs.map(arena.string))
        proto.pointee.name = arena.optionalString(node.name)
        proto.pointee.op_type = arena.string(node.opType)
        proto.pointee.domain = arena.optionalString(node.domain)
        let attributes = node.attributes.sorted { $0.key < $1.key }.map { attribute($0.key, $0.value) }
        proto.pointee.n_attribute = attributes.count
        proto.pointee.attribute = arena.pointers(attributes)
        return proto
    }

    func attribute(_ key: String, _ value: Attribute) -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let proto = arena.message(onnx__attribute_proto__init)
        proto.pointee.name = arena.string(key)
        proto.pointee.has_type = 1
        switch value {
        case .int(let v):
            proto.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
            proto.pointee.has_i = 1
            proto.pointee.i = Int64(v)
        case .ints(let v):
            proto.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
            proto.pointee.n_ints = v.count
            proto.pointee.ints = arena.array(v.map { Int64($0) })
        case .float(let v):
            proto.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
            proto.pointee.has_f = 1
            proto.pointee.f = v
        case .floats(let v):
            proto.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
            proto.pointee.n_floats = v.count
            proto.pointee.floats = arena.array(v)
        case .string(let s):
            proto.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
            proto.pointee.has_s = 1
            proto.pointee.s = arena.binary(Array(s.utf8))
        case .strings(let list):
            proto.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS
            proto.pointee.n_strings = list.count
            proto.pointee.strings = arena.array(list.map { arena.binary(Array($0.utf8)) })
        case .tensor(let t):
            proto.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
            proto.pointee.t = tensor(t, name: "", allowExternal: false)
        case .graph(let g):
            proto.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH
            proto.pointee.g = graph(g)
        }
        return proto
    }

    func valueInfo(_ info: ValueInfo) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let proto = arena.message(onnx__value_info_proto__init)
        proto.pointee.name = arena.string(info.name)
        guard info.dtype != nil || info.shape != nil else { return proto }
        let tensorType = arena.message(onnx__type_proto__tensor__init)
        if let dtype = info.dtype {
            tensorType.pointee.has_elem_type = 1
            tensorType.pointee.elem_type = ONNXDataType.code(of: dtype)
        }
        if let shape = info.shape {
            let dims = shape.map { dim -> UnsafeMutablePointer<Onnx__TensorShapeProto__Dimension> in
                let proto = arena.message(onnx__tensor_shape_proto__dimension__init)
                switch dim {
                case .known(let v):
                    proto.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                    proto.pointee.dim_value = Int64(v)
                case .symbol(let s):
                    proto.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                    proto.pointee.dim_param = arena.string(s)
                case .unknown:
                    break  // neither dim_value nor dim_param: ONNX's unknown dimension
                }
                return proto
            }
            let shapeProto = arena.message(onnx__tensor_shape_proto__init)
            shapeProto.pointee.n_dim = dims.count
            shapeProto.pointee.dim = arena.pointers(dims)
            tensorType.pointee.shape = shapeProto
        }
        let type = arena.message(onnx__type_proto__init)
        type.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
        type.pointee.tensor_type = tensorType
        proto.pointee.type = type
        return proto
    }

    func entry(key: String, value: String) -> UnsafeMutablePointer<Onnx__StringStringEntryProto> {
        let proto = arena.message(onnx__string_string_entry_proto__init)
        proto.pointee.key = arena.string(key)
        proto.pointee.value = arena.string(value)
        return proto
    }

    /// Non-default operator domains used by the graph's nodes, sub-graphs included.
    static func domains(in graph: Graph) -> Set<String> {
        var found = Set<String>()
        for node in graph.nodes {
            if !node.domain.isEmpty, node.domain != "ai.onnx" { found.insert(node.domain) }
            for case .graph(let body) in node.attributes.values { found.formUnion(domains(in: body)) }
        }
        return found
    }
}
