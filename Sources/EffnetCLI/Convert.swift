import ArgumentParser
import Effnet
import Formats
import Foundation
import IR
import Models
import Optimizer

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert between ONNX, .npz and safetensors, optimizing on the way.",
        discussion: """
            Without -o, the optimized model is written beside the input: model.onnx → model.effnet.onnx, a \
            checkpoint model.npz → model.onnx; an existing file there is never replaced unless --force is given. \
            With -o, the output kind comes from its name: .onnx, .npz or .safetensors. ONNX output is standard ONNX \
            (fused blocks are written back as their standard operators; BatchNorm stays folded). .npz and \
            .safetensors output use a framework's naming \
            (--naming; default: the checkpoint's own, the one recorded when effnet built the ONNX file, or timm) when the graph is a recognised \
            EfficientNetV2, and the raw initializer names otherwise. The output is written to a temporary file and \
            renamed into place; the input is never overwritten.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var passes: PassOptions

    @Option(
        name: .shortAndLong,
        help:
            "The output file (.onnx, .npz or .safetensors). Default: beside the input, MODEL.effnet.onnx (a checkpoint: MODEL.onnx).")
    var output: String?

    @Flag(help: "Replace the default output file if it exists (-o always replaces the file it names).")
    var force = false

    @Option(help: "Naming scheme for .npz or .safetensors output: timm, torchvision, keras or efficientnet-pytorch.")
    var naming: NamingScheme?

    @Flag(help: "Store ONNX initializers in one OUT.data file beside the model.")
    var externalData = false

    @Option(help: "ONNX opset to declare (default: the source's, or 17).")
    var opset: Int?

    @Flag(help: "Print one JSON document.")
    var json = false

    enum OutputKind { case onnx, npz, safetensors }

    var outputKind: OutputKind? {
        guard let output else { return .onnx }
        if output.hasSuffix(".onnx") { return .onnx }
        if output.hasSuffix(".npz") { return .npz }
        if output.hasSuffix(".safetensors") { return .safetensors }
        return nil
    }

    func validate() throws {
        guard outputKind != nil else {
            throw ValidationError("-o must name a .onnx, .npz or .safetensors file: '\(output ?? "")'")
        }
        if naming != nil && outputKind == .onnx {
            throw ValidationError("--naming applies to .npz and .safetensors output only")
        }
        if externalData && outputKind != .onnx { throw ValidationError("--external-data applies to .onnx output only") }
    }

    func run() throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let output = try self.output ?? DefaultOutput.path(for: model.model, externalData: externalData, force: force)
        try OutputGuard.refuseOverwritingInput(input: model.model, output: output)
        let loaded = try model.load()
        try OutputGuard.refuseOverwritingDataFiles(loaded.dataFiles, output: output)
        let before = ConvertReport.opCounts(loaded.model.graph)
        var report = ConvertReport(
            input: model.model, output: output, inputFormat: loaded.format.rawValue, architecture: loaded.architecture,
            opsBefore: before)
        switch outputKind! {
        case .onnx:
            var out = loaded.model
            report.passes = try ModelLoader.optimize(&out, passes: passes.selection)
            _ = try Unfuse().run(&out.graph, context: PassContext(opset: out.opset))
            report.opsAfter = ConvertReport.opCounts(out.graph)
            report.parameters = out.graph.parameterCount
            try ONNXWriter.write(
                out, to: output,
                options: ONNXWriteOptions(opset: opset, externalData: externalData, producerVersion: Effnet.version))
        case .npz, .safetensors:
            // The graph records the scheme it was built from (`effnet.scheme`): a checkpoint keeps its own naming,
            // an ONNX file effnet wrote keeps the one it came from; other ONNX files default to timm.
            let scheme = naming ?? loaded.model.metadata["effnet.scheme"].flatMap(NamingScheme.init(rawValue:)) ?? .timm
            let tensors: [(String, Tensor)]
            if loaded.format.isCheckpoint {
                // Built from the checkpoint with explicit BatchNorm, so the export is exact.
                let exported = try CheckpointFileError.naming(model.model) {
                    try CheckpointExporter.export(loaded.model.graph, naming: scheme)
                }
                tensors = exported.tensors
                report.naming = exported.scheme.rawValue
                report.notes = exported.notes
            } else if let exported = try? CheckpointExporter.export(loaded.model.graph, naming: scheme) {
                tensors = exported.tensors
                report.naming = exported.scheme.rawValue
                report.notes = exported.notes
            } else {
                if let naming {
                    throw ModelUseError.reference(
                        path: model.model, message: "is not a recognised EfficientNetV2, so it has no \(naming) names")
                }
                tensors = loaded.model.graph.initializers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                report.naming = "initializer names"
            }
            report.parameters = tensors.reduce(0) { $0 + ($1.1.dtype.isFloatingPoint ? $1.1.count : 0) }
            let named = tensors.map { NamedTensor(name: $0.0, tensor: $0.1) }
            if outputKind == .safetensors {
                try Safetensors.write(named, to: output, metadata: ["format": "pt"])
            } else {
                try NPZ.write(named, to: output, compressed: false)
            }
        }
        report.bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? nil
        if externalData, let data = try? FileManager.default.attributesOfItem(atPath: output + ".data")[.size] as? Int {
            report.bytes = (report.bytes ?? 0) + data
        }
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if json { try JSONOutput.print(report) } else { print(report.text) }
    }
}

extension NamingScheme: ExpressibleByArgument {}

/// Where `convert` writes when -o is not given: beside the input, named for what it is. An ONNX file `m.onnx`
/// becomes `m.effnet.onnx`; a checkpoint `m.npz` becomes `m.onnx` (the kind is read from the content, the stem
/// drops a `.onnx` / `.npz` extension). An existing file there is refused unless `--force`.
enum DefaultOutput {
    struct Exists: Error, CustomStringConvertible {
        var output: String
        var description: String {
            "\(output): already exists (an earlier convert?); pass --force to replace it, or -o OUT to write elsewhere"
        }
    }

    static func name(for input: String, kind: ModelFileKind) -> String {
        let dot = input.lastIndex(of: ".")
        let slash = input.lastIndex(of: "/")
        var stem = input
        if let dot, slash.map({ $0 < dot }) ?? true {
            let ext = input[input.index(after: dot)...].lowercased()
            if ext == "onnx" || ext == "npz" { stem = String(input[..<dot]) }
        }
        return stem + (kind == .onnx ? ".effnet.onnx" : ".onnx")
    }

    static func path(for input: String, externalData: Bool, force: Bool) throws -> String {
        let path = name(for: input, kind: try ModelFileKind.detect(path: input))
        if !force {
            for candidate in [path] + (externalData ? [path + ".data"] : []) {
                var info = stat()
                if lstat(candidate, &info) == 0 { throw Exists(output: candidate) }
            }
        }
        return path
    }
}

/// Refuses an output path that is the input itself (or its external data), checked on the resolved file identity
/// so that `./m.onnx`, `m.onnx` and a symbolic link to it all count as the same file.
enum OutputGuard {
    struct Refusal: Error, CustomStringConvertible {
        var output: String
        var description: String { "\(output): is the input model; choose another output path" }
    }

    static func refuseOverwritingInput(input: String, output: String) throws {
        /// Device and inode of the file a path resolves to (following symbolic links), nil when it does not exist.
        func identity(_ path: String) -> (UInt64, UInt64)? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return (UInt64(info.st_dev), UInt64(info.st_ino))
        }
        func same(_ a: String, _ b: String) -> Bool {
            guard let x = identity(a), let y = identity(b) else { return false }
            return x == y
        }
        if same(input, output) || same(input + ".data", output + ".data") || same(input, output + ".data") {
            throw Refusal(output: output)
        }
    }

    /// Refuses an output (or its `OUT.data`) that is one of the external data files the input model was read
    /// from: replacing one would silently give the input other weights.
    static func refuseOverwritingDataFiles(_ dataFiles: [String], output: String) throws {
        for target in [output, output + ".data"] {
            if let file = dataFiles.first(where: { sameFile($0, target) }) {
                throw DataFileRefusal(output: output, dataFile: file)
            }
        }
    }

    struct DataFileRefusal: Error, CustomStringConvertible {
        var output: String
        var dataFile: String
        var description: String {
            "\(output): would overwrite '\(dataFile)', an external data file of the input model; choose another output path"
        }
    }

    /// Whether two paths name the same existing file (device and inode, symbolic links followed).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var x = stat()
        var y = stat()
        guard stat(a, &x) == 0, stat(b, &y) == 0 else { return false }
        return x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }
}

/// What `convert` did: passes, op counts before and after, parameters, file size, time.
struct ConvertReport: Encodable {
    var input: String
    var output: String
    var inputFormat: String
    var architecture: String?
    var opsBefore: [String: Int]
    var opsAfter: [String: Int]? = nil
    var passes: [PassReportEntry] = []
    var naming: String? = nil
    var notes: [String] = []
    var parameters: Int = 0
    var bytes: Int? = nil
    var seconds: Double = 0

    enum CodingKeys: String, CodingKey {
        case input, output, architecture, passes, naming, notes, parameters, bytes, seconds
        case inputFormat = "input_format"
        case opsBefore = "ops_before"
        case opsAfter = "ops_after"
    }

    static func opCounts(_ graph: Graph) -> [String: Int] {
        var counts = [String: Int]()
        for node in graph.nodes {
            counts[(node.domain.isEmpty ? "" : node.domain + ".") + node.opType, default: 0] += 1
        }
        return counts
    }

    var text: String {
        var lines = ["\(input) (\(inputFormat)\(architecture.map { ", " + $0 } ?? "")) → \(output)"]
        for p in passes where p.changes > 0 { lines.append("  \(p.pass): \(p.summary)") }
        if let after = opsAfter {
            let keys = Set(opsBefore.keys).union(after.keys).sorted()
            let changed = keys.filter { opsBefore[$0] != after[$0] }
            if !changed.isEmpty {
                lines.append(
                    "  operators: "
                        + changed.map { "\($0) \(opsBefore[$0] ?? 0)→\(after[$0] ?? 0)" }.joined(separator: ", "))
            }
            lines.append("  nodes: \(opsBefore.values.reduce(0, +)) → \(after.values.reduce(0, +))")
        }
        if let naming { lines.append("  naming: \(naming)") }
        for note in notes { lines.append("  note: \(note)") }
        lines.append(String(format: "  parameters: %.2f M", Double(parameters) / 1e6))
        if let bytes { lines.append(String(format: "  written: %.2f MB", Double(bytes) / 1e6)) }
        lines.append(String(format: "  time: %.2f s", seconds))
        return lines.joined(separator: "\n")
    }
}
