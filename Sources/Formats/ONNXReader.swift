import CProtobufC
import IR
import ONNXProto

/// Reads ONNX model files into the IR through protobuf-c.
///
/// The file is memory-mapped and unpacked by protobuf-c (`onnx__model_proto__unpack`); the unpacked C message is
/// converted into Swift values and freed before `read` returns, so no C memory outlives the call. Inline weights
/// bypass protobuf-c (`ONNXPayloadScan`): each initializer's `raw_data` is read from the file straight into its
/// tensor, so reading a model holds one copy of its weights, not three (file pages, protobuf-c, Swift). Conversion
/// checks everything a later stage would trust: each tensor's byte length against its dims, element types,
/// external-data paths and ranges, SSA form (`Graph.validate`) and operator support (`OpSupport.check`), so a
/// model with unknown operators fails here with one error listing all of them, before anything runs.
public enum ONNXReader {
    /// Reads the model at `path`; external data files are looked up relative to the model's folder.
    ///
    /// - Parameter checkOperators: when false, unsupported operators are left for the caller to report
    ///   (`effnet inspect` can still list the graph); SSA validation always runs.
    public static func read(contentsOf path: String, checkOperators: Bool = true) throws -> Model {
        try readWithDataFiles(contentsOf: path, checkOperators: checkOperators).model
    }

    /// `read(contentsOf:)`, also returning the external data files the model's tensors were read from (resolved
    /// paths), so that a writer can refuse to overwrite any file the model depends on.
    public static func readWithDataFiles(contentsOf path: String, checkOperators: Bool = true) throws -> (
        model: Model, dataFiles: [String]
    ) {
        var dataFiles = [String]()
        let file: InputFile
        do {
            file = try InputFile(path: path)
        } catch {
            throw ONNXReadError.cannotOpen(file: path, reason: error.reason)
        }
        let model = try file.withMappedBytes { bytes in
            try parse(
                bytes, file: path, folder: folder(of: path), checkOperators: checkOperators, payloads: .file(file),
                dataFiles: { dataFiles = $0 })
        }
        return (model, dataFiles)
    }

    /// Reads a model from bytes already in memory (tests, fuzzing); `file` names it in errors and `folder` is where
    /// external data would live. `stripsPayloads: false` makes protobuf-c unpack every byte, as a reference for
    /// the payload scan.
    static func read(
        bytes: [UInt8], file: String, folder: String, checkOperators: Bool = true, stripsPayloads: Bool = true
    ) throws -> Model {
        try bytes.withUnsafeBytes {
            try parse(
                $0, file: file, folder: folder, checkOperators: checkOperators,
                payloads: stripsPayloads ? .memory($0) : nil)
        }
    }

    /// Parses a serialized model. With `payloads`, inline initializer weights are copied from there instead of
    /// through protobuf-c (see `ONNXPayloadScan`); `payloads` must hold the same bytes as `bytes`.
    static func parse(
        _ bytes: UnsafeRawBufferPointer, file: String, folder: String, checkOperators: Bool,
        payloads source: ONNXPayloadSource?, dataFiles: ([String]) -> Void = { _ in }
    ) throws -> Model {
        switch FileSignature(prefix: bytes.prefix(FileSignature.prefixLength)) {
        case .empty: throw ONNXReadError.emptyFile(file: file)
        case .gitLFSPointer: throw ONNXReadError.gitLFSPointer(file: file)
        case .zip: throw ONNXReadError.zipArchive(file: file)
        case .other: break
        }
        guard ONNXNestingCheck.isWithinLimit(bytes) else {
            throw ONNXReadError.notONNX(
                file: file, reason: "messages nested deeper than \(ONNXNestingCheck.maximumDepth) levels")
        }
        let scan = source == nil ? nil : ONNXPayloadScan.scan(bytes)
        if scan != nil, case .file(let input) = source { input.dropMappedPages() }
        let unpacked: UnsafeMutablePointer<Onnx__ModelProto>?
        if let scan {
            unpacked = scan.stripped.withUnsafeBufferPointer {
                onnx__model_proto__unpack(nil, $0.count, $0.baseAddress)
            }
        } else {
            unpacked = onnx__model_proto__unpack(
                nil, bytes.count, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard let proto = unpacked else {
            throw ONNXReadError.notONNX(file: file, reason: unpackFailureReason(bytes))
        }
        defer { onnx__model_proto__free_unpacked(proto, nil) }
        if proto.pointee.graph == nil, let line = textStart(bytes) {
            // Some text happens to parse as protobuf fields; say what the file is rather than "no graph".
            throw ONNXReadError.notONNX(file: file, reason: "a text file starting '\(line)'")
        }

        var decoder = ONNXDecoder(file: file, folder: folder)
        if let scan, let source { decoder.payloads = ONNXPayloads(ranges: scan.payloads, source: source) }
        let model = try decoder.model(proto.pointee)
        dataFiles(decoder.external.openedFiles)
        guard !model.graph.outputs.isEmpty else {
            throw ONNXReadError.graph(file: file, problem: "the graph declares no outputs, so it computes nothing")
        }
        do {
            try model.graph.validate()
            if checkOperators { try OpSupport.check(model.graph) }
        } catch let error as IRError {
            throw ONNXReadError.invalidGraph(file: file, error: error)
        }
        return model
    }

    /// Why protobuf-c refused the bytes: text files get their own wording, since "corrupt" would mislead.
    static func unpackFailureReason(_ bytes: UnsafeRawBufferPointer) -> String {
        if let line = textStart(bytes) { return "a text file starting '\(line)'" }
        return "protobuf parse failed: truncated or corrupt"
    }

    /// The first line (up to 40 bytes) when the file's first 4 KiB are printable UTF-8 text, else nil. A real
    /// model never qualifies: its first byte is a field tag such as 0x08 (`ir_version`), a control character.
    static func textStart(_ bytes: UnsafeRawBufferPointer) -> String? {
        let head = Array(bytes.prefix(4096))
        let printable = head.allSatisfy { ($0 >= 0x20 && $0 != 0x7f) || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d }
        // The 4 KiB cut may split a multi-byte character: drop up to three trailing bytes before validating.
        guard printable, (0...3).contains(where: { String(validating: head.dropLast($0), as: UTF8.self) != nil })
        else { return nil }
        return String(decoding: head.prefix(while: { $0 != 0x0a && $0 != 0x0d }).prefix(40), as: UTF8.self)
    }

    /// The directory holding `path` (`.` for a bare file name).
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last path component of `path`.
    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

/// Converts an unpacked `ModelProto` into IR values. One decoder reads one file; it caches open external data
/// files so that a model with hundreds of tensors in one `.data` file opens it once.
struct ONNXDecoder {
    let file: String
    let external: ONNXExternalData
    /// The main graph's inline payloads when protobuf-c unpacked a copy without them.
    var payloads: ONNXPayloads?

    /// Sub-graphs (GRAPH attributes) nested deeper than this are refused; real fused blocks nest one level.
    static let maximumGraphDepth = 16

    init(file: String, folder: String) {
        self.file = file
        self.external = ONNXExternalData(modelFile: file, folder: folder)
    }

    func model(_ proto: Onnx__ModelProto) throws -> Model {
        guard let graphProto = proto.graph else { throw ONNXReadError.noGraph(file: file) }
        var opsets = [String: Int]()
        for entry in ONNXC.buffer(proto.opset_import, proto.n_opset_import) {
            guard let entry else { continue }
            opsets[ONNXC.string(entry.pointee.domain)] = entry.pointee.has_version != 0 ? Int(entry.pointee.version) : 1
        }
        var metadata = [String: String]()
        for entry in ONNXC.buffer(proto.metadata_props, proto.n_metadata_props) {
            guard let entry else { continue }
            metadata[ONNXC.string(entry.pointee.key)] = ONNXC.string(entry.pointee.value)
        }
        let decoded = try graph(graphProto.pointee, depth: 0)
        // Without an opset for the default domain every operator's version (and so its attributes and inputs) is
        // unknown; reading it as opset 0 would only produce misleading errors later.
        guard opsets[""] != nil || opsets["ai.onnx"] != nil else {
            throw ONNXReadError.graph(
                file: file,
                problem: "the model declares no opset_import for the default ONNX domain, so its operator versions are unknown")
        }
        return Model(
            graph: decoded,
            irVersion: proto.has_ir_version != 0 ? Int(proto.ir_version) : 0,
            opsets: opsets,
            producerName: ONNXC.string(proto.producer_name),
            producerVersion: ONNXC.string(proto.producer_version),
            domain: ONNXC.string(proto.domain),
            modelVersion: proto.has_model_version != 0 ? Int(proto.model_version) : 0,
            docString: ONNXC.string(proto.doc_string),
            metadata: metadata)
    }
}

// MARK: - C helpers

/// Reading protobuf-c fields: absent optional strings are NULL, repeated fields are a count and a pointer.
enum ONNXC {
    /// A C string field as a Swift string ("" when NULL).
    static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }

    static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }

    /// Bytes of a protobuf `bytes` field decoded as UTF-8 (invalid sequences become U+FFFD).
    static func string(_ data: ProtobufCBinaryData) -> String {
        guard let base = data.data, data.len > 0 else { return "" }
        return String(decoding: UnsafeBufferPointer(start: base, count: data.len), as: UTF8.self)
    }

    /// A repeated field (`n_x` elements at `x`) as a buffer; empty when the pointer is NULL.
    static func buffer<T>(_ pointer: UnsafeMutablePointer<T>?, _ count: Int) -> UnsafeBufferPointer<T> {
        guard let pointer, count > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: pointer, count: count)
    }
}
