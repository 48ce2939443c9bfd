import Formats
import Foundation
import IR
import Models
import Optimizer

/// A checkpoint naming scheme (`timm`, `torchvision`, `keras`, `efficientnet-pytorch`), for `convert --naming`.
package typealias NamingScheme = Models.NamingScheme

/// `effnet convert`'s model work: optimize and write standard ONNX, or export the weights under a framework's names
/// as `.npz` or `.safetensors`. Outputs are written to a temporary file and renamed into place.
package enum ModelConversion {
    package enum OutputKind: Sendable { case onnx, npz, safetensors }

    /// Where `convert` writes by default: beside the input, named for what it is. An ONNX file `m.onnx` becomes
    /// `m.effnet.onnx`; a checkpoint `m.npz` becomes `m.onnx` (the kind is read from the content, the stem drops a
    /// `.onnx` / `.npz` extension).
    package static func defaultOutput(for input: String) throws -> String {
        let kind = try ModelFileKind.detect(path: input)
        let dot = input.lastIndex(of: ".")
        let slash = input.lastIndex(of: "/")
        var stem = input
        if let dot, slash.map({ $0 < dot }) ?? true {
            let ext = input[input.index(after: dot)...].lowercased()
            if ext == "onnx" || ext == "npz" { stem = String(input[..<dot]) }
        }
        return stem + (kind == .onnx ? ".effnet.onnx" : ".onnx")
    }

    /// Converts `loaded` (read from `input`) to `output` of `kind`: ONNX optimized with `passes` (fused blocks
    /// written back as standard operators, `opset` declared, initializers in `OUT.data` with `externalData`), or
    /// the weights named by `naming` (default: the scheme the graph records, else timm; the raw initializer names
    /// for a graph that is not a recognised EfficientNet). The report's `seconds` and `bytes` are the caller's.
    package static func convert(
        _ loaded: LoadedModel, input: String, to output: String, kind: OutputKind, passes: PassSelection,
        naming: NamingScheme?, opset: Int?, externalData: Bool, producerVersion: String
    ) throws -> ConvertReport {
        var report = ConvertReport(
            input: input, output: output, inputFormat: loaded.format.rawValue, architecture: loaded.architecture,
            opsBefore: ConvertReport.opCounts(loaded.model.graph))
        switch kind {
        case .onnx:
            var out = loaded.model
            report.passes = try ModelLoader.optimize(&out, passes: passes)
            if passes.isStandard, report.architecture == nil {
                var named = loaded
                ModelLoader.identifyOptimized(&named, optimized: out.graph)
                report.architecture = named.architecture
            }
            _ = try Unfuse().run(&out.graph, context: PassContext(opset: out.opset))
            report.opsAfter = ConvertReport.opCounts(out.graph)
            report.parameters = out.graph.parameterCount
            try ONNXWriter.write(
                out, to: output,
                options: ONNXWriteOptions(opset: opset, externalData: externalData, producerVersion: producerVersion))
        case .npz, .safetensors:
            // The graph records the scheme it was built from (`effnet.scheme`): a checkpoint keeps its own naming,
            // an ONNX file effnet wrote keeps the one it came from; other ONNX files default to timm.
            let scheme = naming ?? loaded.model.metadata["effnet.scheme"].flatMap(NamingScheme.init(rawValue:)) ?? .timm
            let tensors: [(String, Tensor)]
            if loaded.format.isCheckpoint {
                // Built from the checkpoint with explicit BatchNorm, so the export is exact.
                let exported = try CheckpointFileError.naming(input) {
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
                        path: input, message: "is not a recognised EfficientNetV2, so it has no \(naming) names")
                }
                tensors = loaded.model.graph.initializers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                report.naming = "initializer names"
            }
            report.parameters = tensors.reduce(0) { $0 + ($1.1.dtype.isFloatingPoint ? $1.1.count : 0) }
            let named = tensors.map { NamedTensor(name: $0.0, tensor: $0.1) }
            if kind == .safetensors {
                try Safetensors.write(named, to: output, metadata: ["format": "pt"])
            } else {
                try NPZ.write(named, to: output, compressed: false)
            }
        }
        return report
    }
}

/// What `convert` did: passes, op counts before and after, parameters, file size, time.
package struct ConvertReport: Encodable {
    package var input: String
    package var output: String
    package var inputFormat: String
    package var architecture: String?
    package var opsBefore: [String: Int]
    package var opsAfter: [String: Int]? = nil
    package var passes: [PassReportEntry] = []
    package var naming: String? = nil
    package var notes: [String] = []
    package var parameters: Int = 0
    package var bytes: Int? = nil
    package var seconds: Double = 0

    enum CodingKeys: String, CodingKey {
        case input, output, architecture, passes, naming, notes, parameters, bytes, seconds
        case inputFormat = "input_format"
        case opsBefore = "ops_before"
        case opsAfter = "ops_after"
    }

    package static func opCounts(_ graph: Graph) -> [String: Int] {
        var counts = [String: Int]()
        for node in graph.nodes {
            counts[(node.domain.isEmpty ? "" : node.domain + ".") + node.opType, default: 0] += 1
        }
        return counts
    }

    package var text: String {
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
