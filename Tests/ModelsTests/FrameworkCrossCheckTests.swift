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
            guard FileManager.default.fileExists(atPath: source.appendingPathComponent("names.tsv").path) else {
                continue
            }
            let checkpoint = Checkpoint(tensors: try NPYDirectory.read(source))
            let (graph, detected) = try GraphBuilder.build(checkpoint)
            let scheme = detected.scheme
            try NPYDirectory.write(
                try CheckpointExporter.export(graph, naming: scheme).tensors,
                to: folder.appendingPathComponent("export-graph"))
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
            // Real exporter output (tools/onnx_to_graph_json.py): recognize, export under the source's scheme.
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            for file in files.sorted() where file.hasPrefix("onnx-") && file.hasSuffix(".json") {
                let name = String(file.dropLast(5))
                let onnx = try GraphJSON.read(
                    folder.appendingPathComponent(file), weights: folder.appendingPathComponent(name + "-weights"))
                let recognized = try GraphRecognizer.recognize(onnx)
                let identified = ArchitectureDetector.identify(recognized)
                #expect(recognized.structure == detected.structure, "\(entry)/\(name)")
                let exported = try CheckpointExporter.export(onnx, naming: scheme)
                try NPYDirectory.write(exported.tensors, to: folder.appendingPathComponent("export-from-" + name))
                print(
                    "\(entry)/\(name): \(identified?.summary ?? "?"), padding \(recognized.padding), "
                        + "BN \(recognized.batchNormFolded ? "folded" : "explicit") → export-from-\(name)")
            }
        }
    }
}

/// Test-only: a graph as JSON (nodes, attributes, inputs, outputs) plus its initializers as an `.npy` folder, so that
/// `tools/check_graph_onnxruntime.py` can rebuild it with `onnx.helper` and run it with onnxruntime.
enum GraphJSON {
    /// Reads `tools/onnx_to_graph_json.py` output back into a graph.
    static func read(_ json: URL, weights: URL) throws -> Graph {
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        func tensor(_ spec: [String: Any]) -> Tensor {
            let dtype: DType =
                [
                    "int64": .int64, "int32": .int32, "float32": .float32, "float64": .float64,
                    "bool": .bool, "uint8": .uint8, "int8": .int8,
                ][spec["dtype"] as! String] ?? .float32
            let shape = (spec["shape"] as! [NSNumber]).map(\.intValue)
            let values = (spec["values"] as! [Any]).map { ($0 as? NSNumber)?.doubleValue ?? 0 }
            return Tensor(dtype: dtype, shape: shape, values: values)
        }
        func attribute(_ spec: [String: Any]) -> Attribute? {
            if let v = spec["int"] as? NSNumber { return .int(v.intValue) }
            if let v = spec["ints"] as? [NSNumber] { return .ints(v.map(\.intValue)) }
            if let v = spec["float"] as? NSNumber { return .float(v.floatValue) }
            if let v = spec["floats"] as? [NSNumber] { return .floats(v.map(\.floatValue)) }
            if let v = spec["string"] as? String { return .string(v) }
            if let v = spec["tensor"] as? [String: Any] { return .tensor(tensor(v)) }
            return nil
        }
        func info(_ spec: Any) -> ValueInfo {
            let d = spec as! [String: Any]
            let dims = (d["shape"] as! [Any]).map { v -> Dim in
                if let n = v as? NSNumber { return .known(n.intValue) }
                return .symbol(v as! String)
            }
            return ValueInfo(name: d["name"] as! String, dtype: .float32, shape: dims)
        }
        let nodes = (doc["nodes"] as! [[String: Any]]).map { n in
            Node(
                name: n["name"] as! String, opType: n["op"] as! String, domain: n["domain"] as! String,
                inputs: n["inputs"] as! [String], outputs: n["outputs"] as! [String],
                attributes: (n["attributes"] as! [String: [String: Any]]).compactMapValues(attribute))
        }
        return Graph(
            name: doc["name"] as! String, nodes: nodes, inputs: (doc["inputs"] as! [Any]).map(info),
            outputs: (doc["outputs"] as! [Any]).map(info),
            initializers: Dictionary(uniqueKeysWithValues: try NPYDirectory.read(weights)))
    }

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
                [
                    "name": n.name, "op": n.opType, "domain": n.domain, "inputs": n.inputs, "outputs": n.outputs,
                    "attributes": n.attributes.mapValues(attribute),
                ]
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys])
        try data.write(to: folder.appendingPathComponent("graph.json"))
        try NPYDirectory.write(
            graph.initializers.keys.sorted().map { ($0, graph.initializers[$0]!) },
            to: folder.appendingPathComponent("graph-weights"))
    }
}
