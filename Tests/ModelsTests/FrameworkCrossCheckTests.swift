import Foundation
import IR
import Models
import Testing

/// Exports for a manual cross-check with the real frameworks (no Python at test time): runs only when
/// `EFFNET_MODELS_CROSSCHECK` names a folder holding `<case>/source` (`.npy` folders written by
/// `tools/check_timm_strict_load.py`'s `save_arrays`). For each case it writes:
/// - `export-graph`: source → graph → recognizer → source scheme (builder + recognizer round trip);
/// - `export-timm` / `export-torchvision` / `export-keras`: renamed to each representable scheme;
/// - `export-via-keras`: source → Keras names (HWIO, HWC1, [in, out]) → back to the source scheme;
/// - `export-folded`: BN folded into the convs, exported with identity BatchNorms (ε = the architecture's);
/// - `graph.json` + `graph-weights/`: the built graph itself, for `tools/check_graph_onnxruntime.py`.
/// Then `tools/check_timm_strict_load.py <case>/export-… --model … --io <case>/io.npz` loads each strictly.
@Suite struct FrameworkCrossCheckTests {
    static let root = ProcessInfo.processInfo.environment["EFFNET_MODELS_CROSSCHECK"]

    @Test(.enabled(if: root != nil)) func writeExportsForFrameworkCheck() throws {
        let root = URL(fileURLWithPath: Self.root!)
        for entry in try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() {
            let folder = root.appendingPathComponent(entry)
            let source = folder.appendingPathComponent("source")
            guard FileManager.default.fileExists(atPath: source.appendingPathComponent("names.tsv").path) else { continue }
            let checkpoint = Checkpoint(tensors: try NPYDirectory.read(source))
            let (graph, detected) = try GraphBuilder.build(checkpoint)
            let scheme = detected.scheme
            try NPYDirectory.write(
                try CheckpointExporter.export(graph, naming: scheme).tensors, to: folder.appendingPathComponent("export-graph"))
            for target in NamingScheme.allCases {
                guard let renamed = try? CheckpointExporter.rename(checkpoint, to: target) else { continue }
                try NPYDirectory.write(renamed.tensors, to: folder.appendingPathComponent("export-\(target)"))
            }
            let keras = try CheckpointExporter.rename(checkpoint, to: .keras)
            let back = try CheckpointExporter.rename(Checkpoint(tensors: keras.tensors), to: scheme)
            try NPYDirectory.write(back.tensors, to: folder.appendingPathComponent("export-via-keras"))
            let folded = try CheckpointExporter.export(
                GraphSurgery.foldBatchNorm(graph), naming: scheme, epsilon: detected.architecture.batchNormEpsilon)
            try NPYDirectory.write(folded.tensors, to: folder.appendingPathComponent("export-folded"))
            try GraphJSON.write(graph, to: folder)
            print("\(entry): \(detected.summary) (\(scheme)) → exports written")
        }
    }
}

/// Test-only: a graph as JSON (nodes, attributes, inputs, outputs) plus its initializers as an `.npy` folder, so that
/// `tools/check_graph_onnxruntime.py` can rebuild it with `onnx.helper` and run it with onnxruntime.
enum GraphJSON {
    static func write(_ graph: Graph, to folder: URL) throws {
        func attribute(_ a: Attribute) -> Any {
            switch a {
            case .int(let v): ["int": v]
            case .ints(let v): ["ints": v]
            case .float(let v): ["float": Double(v)]
            case .floats(let v): ["floats": v.map(Double.init)]
            case .string(let v): ["string": v]
            case .strings(let v): ["strings": v]
            case .tensor, .graph: ["unsupported": true]
            }
        }
        func info(_ v: ValueInfo) -> Any {
            ["name": v.name, "shape": (v.shape ?? []).map { d -> Any in d.value ?? d.description }]
        }
        let doc: [String: Any] = [
            "name": graph.name,
            "inputs": graph.inputs.map(info), "outputs": graph.outputs.map(info),
            "nodes": graph.nodes.map { n -> [String: Any] in
                ["name": n.name, "op": n.opType, "domain": n.domain, "inputs": n.inputs, "outputs": n.outputs,
                 "attributes": n.attributes.mapValues(attribute)]
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys])
        try data.write(to: folder.appendingPathComponent("graph.json"))
        try NPYDirectory.write(
            graph.initializers.keys.sorted().map { ($0, graph.initializers[$0]!) },
            to: folder.appendingPathComponent("graph-weights"))
    }
}
