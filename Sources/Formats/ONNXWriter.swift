import CProtobufC
import IR
import ONNXProto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How `ONNXWriter` writes a model.
public struct ONNXWriteOptions: Sendable, Equatable {
    /// The `ai.onnx` opset to declare; nil keeps the model's (17 when it has none). The writer does not convert
    /// operators between opsets: a different number is only correct when the graph's ops mean the same there.
    public var opset: Int?
    /// Store initializers of at least `externalThreshold` bytes in `<model file name>.data` beside the model.
    /// Chosen automatically when the model would not fit protobuf's 2 GiB limit.
    public var externalData: Bool
    public var producerName: String
    public var producerVersion: String

    /// Smaller initializers stay inside the protobuf even with external data (onnx's `size_threshold`).
    var externalThreshold = 1024
    /// Packed size above which the model goes to external data anyway: protobuf refuses messages over 2 GiB.
    /// Tests lower it to exercise the automatic switch without writing gigabytes.
    var inlineLimit = Int(Int32.max)

    public init(
        opset: Int? = nil, externalData: Bool = false, producerName: String = "effnet", producerVersion: String = ""
    ) {
        self.opset = opset
        self.externalData = externalData
        self.producerName = producerName
        self.producerVersion = producerVersion
    }
}

/// Why a model could not be written. File-system failures surface as `FileWriteError` (from `AtomicFileWriter`).
public enum ONNXWriteError: Error, CustomStringConvertible, Equatable {
    /// Fused `ai.effnet` nodes must be expanded into standard ONNX (their `body`) before writing.
    case fusedOps(file: String, nodes: [IRError.UnsupportedOp])
    /// The graph breaks SSA/topology rules; writing it would produce a file no tool can load.
    case invalidGraph(file: String, error: IRError)
    /// The requested opset is outside what the committed `onnx.proto` describes.
    case unsupportedOpset(file: String, opset: Int)
    /// Even with external data the protobuf would exceed 2 GiB (huge Constant nodes or graph attributes).
    case tooLarge(file: String, bytes: Int)
    /// protobuf-c packed a different number of bytes than it announced.
    case packFailed(file: String, expected: Int, packed: Int)

    public var description: String {
        switch self {
        case .fusedOps(let file, let nodes):
            let listed = nodes.prefix(3).map { "\($0.domain).\($0.opType) (node '\($0.node)')" }.joined(separator: ", ")
            let more = nodes.count > 3 ? " and \(nodes.count - 3) more" : ""
            return "\(file): fused operators \(listed)\(more) are effnet's own; "
                + "expand them into standard ONNX before writing"
        case .invalidGraph(let file, let error): return "\(file): cannot write an invalid graph: \(error)"
        case .unsupportedOpset(let file, let opset):
            return "\(file): opset \(opset) is outside the range effnet writes (7...\(ONNXWriter.newestOpset))"
        case .tooLarge(let file, let bytes):
            return
                "\(file): the model's protobuf would be \(bytes) bytes, over protobuf's 2 GiB limit even with external data"
        case .packFailed(let file, let expected, let packed):
            return "\(file): protobuf-c packed \(packed) bytes instead of \(expected)"
        }
    }
}

/// Writes an IR `Model` as a standard ONNX file through protobuf-c.
///
/// Initializers become little-endian `raw_data` (bit-identical to the IR bytes), or, with external data, ranges of
/// one `<name>.data` file beside the model, each aligned (4096 bytes for tensors of 64 KiB or more, so they can
/// be memory-mapped; 64 otherwise) with `location` relative to the model's folder. Both files are written through
/// `AtomicFileWriter`, data file first: a failure or a kill leaves nothing at the model's path.
public enum ONNXWriter {
    /// Newest `ai.onnx` opset the committed `onnx.proto` (IR version 14) describes.
    public static let newestOpset = 28

    public static func write(_ model: Model, to path: String, options: ONNXWriteOptions = ONNXWriteOptions()) throws {
        let fused = fusedNodes(in: model.graph)
        guard fused.isEmpty else { throw ONNXWriteError.fusedOps(file: path, nodes: fused) }
        do {
            try model.graph.validate()
        } catch let error as IRError {
            throw ONNXWriteError.invalidGraph(file: path, error: error)
        }
        let opset = options.opset ?? model.opsets[""] ?? model.opsets["ai.onnx"] ?? 17
        guard (7...newestOpset).contains(opset) else { throw ONNXWriteError.unsupportedOpset(file: path, opset: opset) }

        let dataName = ONNXReader.baseName(of: path) + ".data"
        let initializerBytes = totalInitializerBytes(model.graph)
        var external = options.externalData || initializerBytes > options.inlineLimit
        var packed = try pack(model, opset: opset, options: options, dataName: external ? dataName : nil, file: path)
        if packed.model.count > options.inlineLimit, !external {
            external = true
            packed = try pack(model, opset: opset, options: options, dataName: dataName, file: path)
        }
        guard packed.model.count <= Int(Int32.max) else {
            throw ONNXWriteError.tooLarge(file: path, bytes: packed.model.count)
        }

        let modelWriter = try AtomicFileWriter(path: path)
        try modelWriter.write(packed.model)
        if let layout = packed.layout, !layout.pieces.isEmpty {
            let dataPath = ONNXReader.folder(of: path) + "/" + dataName
            let dataWriter = try AtomicFileWriter(path: dataPath)
            try layout.write(to: dataWriter)
            try dataWriter.commit()
            do {
                try modelWriter.commit()
            } catch {
                unlink(dataPath)  // no model, so the data file would only mislead
                throw error
            }
        } else {
            try modelWriter.commit()
        }
    }

    /// Builds and packs the `ModelProto`; `dataName` set means large initializers go to external data.
    static func pack(
        _ model: Model, opset: Int, options: ONNXWriteOptions, dataName: String?, file: String
    ) throws -> (model: [UInt8], layout: ONNXExternalLayout?) {
        let arena = ONNXProtoArena()
        let layout = dataName.map { ONNXExternalLayout(location: $0, threshold: options.externalThreshold) }
        let encoder = ONNXEncoder(arena: arena, layout: layout, irVersion: ONNXDataType.irVersion(forOpset: opset))
        let proto = encoder.model(model, opset: opset, options: options)
        let size = onnx__model_proto__get_packed_size(proto)
        var written = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            written = onnx__model_proto__pack(proto, buffer.baseAddress)
            initialized = min(written, size)
        }
        guard written == size else { throw ONNXWriteError.packFailed(file: file, expected: size, packed: written) }
        return (bytes, layout)
    }

    /// Every node of the `ai.effnet` domain, sub-graphs included.
    static func fusedNodes(in graph: Graph) -> [IRError.UnsupportedOp] {
        var found = [IRError.UnsupportedOp]()
        for node in graph.nodes {
            if node.domain == OpSupport.effnetDomain {
                found.append(IRError.UnsupportedOp(opType: node.opType, domain: node.domain, node: node.label))
            }
            for case .graph(let body) in node.attributes.values { found += fusedNodes(in: body) }
        }
        return found
    }

    static func totalInitializerBytes(_ graph: Graph) -> Int {
        var total = graph.initializers.values.reduce(0) { $0 + $1.bytes.count }
        for node in graph.nodes {
            for attribute in node.attributes.values {
                switch attribute {
                case .tensor(let t): total += t.bytes.count
                case .graph(let body): total += totalInitializerBytes(body)
                default: break
                }
            }
        }
        return total
    }
}
