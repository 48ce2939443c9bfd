import Foundation
import IR
import Optimizer

/// `effnet inspect`'s model work: the model optimized with the chosen passes, typed by shape inference, and summarised
/// (format, inputs and outputs, operators, parameters, MACs, blocks and the stage table).
package enum ModelSummary {
    /// The summary (`inspect --json`'s document) and its text form.
    package static func inspect(_ loaded: LoadedModel, passes: PassSelection) throws -> (
        result: InspectResult, text: String
    ) {
        var loaded = loaded
        // A checkpoint has no input size of its own: inspect it at its architecture's resolution, as run and bench
        // execute it (TF "SAME" stride-2 padding depends on the size, and only then folds into the blocks).
        if loaded.format.isCheckpoint, let size = loaded.defaultSize, var dims = loaded.model.graph.inputs.first?.shape,
            dims.count == 4
        {
            for axis in dims.indices.dropFirst() where dims[axis].value == nil { dims[axis] = .known(size) }
            loaded.model.graph.inputs[0].shape = dims
        }
        let asRead = loaded.model
        let report = try ModelLoader.optimize(&loaded.model, passes: passes)
        // An ONNX export that is an EfficientNet only once optimized (Keras's) is named from the standard passes'
        // result: the graph just optimized, or, with other passes (or none), a copy optimized for the purpose.
        if passes.isStandard {
            ModelLoader.identifyOptimized(&loaded, optimized: loaded.model.graph)
        } else {
            var copy = loaded
            copy.model = asRead
            ModelLoader.identifyOptimized(&copy)
            (loaded.architecture, loaded.defaultSize) = (copy.architecture, copy.defaultSize)
        }
        let graph = (try? ShapeInference.infer(loaded.model.graph, opset: loaded.model.opset)) ?? loaded.model.graph
        let summary = NetworkSummary(graph: graph)
        let result = InspectResult(loaded: loaded, graph: graph, summary: summary, report: report)
        return (result, result.text(summary: summary))
    }
}

/// `inspect --json` (the README's contract): format, producer, opset, inputs/outputs, ops, parameters, macs, architecture,
/// blocks; plus the stage table and the pass report.
package struct InspectResult: Encodable {
    package struct Value: Encodable {
        var name: String
        var shape: [String]
        var dtype: String
    }

    var file: String
    var format: String
    var producer: String
    var opset: Int
    var inputs: [Value]
    var outputs: [Value]
    var ops: [String: Int]
    var parameters: Int
    var macs: Int?
    var architecture: String?
    var blocks: [BlockSummary]
    var stages: [StageRow]
    var passes: [PassReportEntry]
    var optimized: Bool

    init(loaded: LoadedModel, graph: Graph, summary: NetworkSummary, report: [PassReportEntry]) {
        file = loaded.path
        format = loaded.format.rawValue
        let m = loaded.model
        producer = [m.producerName, m.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        opset = m.opset
        func value(_ v: ValueInfo) -> Value {
            Value(
                name: v.name, shape: v.shape.map { $0.map(\.description) } ?? [], dtype: v.dtype?.rawValue ?? "unknown")
        }
        inputs = graph.inputs.map(value)
        outputs = graph.outputs.map(value)
        var counts = [String: Int]()
        for node in graph.nodes {
            counts[(node.domain.isEmpty ? "" : node.domain + ".") + node.opType, default: 0] += 1
        }
        ops = counts
        parameters = graph.parameterCount
        macs = graph.multiplyAccumulates()
        architecture = loaded.architecture
        blocks = summary.blocks
        stages = summary.stages
        passes = report
        optimized = !report.isEmpty
    }

    func text(summary: NetworkSummary) -> String {
        var lines = [String]()
        lines.append("\(file): \(format), producer \(producer.isEmpty ? "unknown" : producer), opset \(opset)")
        if let architecture { lines.append("architecture: \(architecture)") }
        for v in inputs { lines.append("input  \(v.name): \(v.dtype)[\(v.shape.joined(separator: ","))]") }
        for v in outputs { lines.append("output \(v.name): \(v.dtype)[\(v.shape.joined(separator: ","))]") }
        lines.append("parameters: \(Self.millions(parameters)) (\(parameters))")
        lines.append("MACs: " + (macs.map { "\(Self.giga($0)) (\($0))" } ?? "unknown (input size not fixed)"))
        lines.append("operators (\(optimized ? "optimized" : "as read")):")
        for (op, n) in ops.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            lines.append("  \(op): \(n)")
        }
        if !passes.isEmpty {
            lines.append("passes:")
            for p in passes { lines.append("  \(p.pass): \(p.summary)") }
        }
        if !summary.stages.isEmpty {
            lines.append("stages (\(blocks.count) blocks):")
            lines.append(contentsOf: summary.stageTable.split(separator: "\n").map { "  " + $0 })
        }
        return lines.joined(separator: "\n")
    }

    static func millions(_ n: Int) -> String { String(format: "%.2f M", Double(n) / 1e6) }
    static func giga(_ n: Int) -> String { String(format: "%.2f G", Double(n) / 1e9) }
}
