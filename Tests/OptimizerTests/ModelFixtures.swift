import Formats
import Foundation
import IR

/// The committed model fixtures (`fixtures/models/<id>/`, made by `tools/make_fixtures.py`).
enum ModelFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let models = root.appendingPathComponent("fixtures/models")

    /// Every ONNX export, as `<id>/<export>.onnx`, sorted.
    static var onnxFiles: [String] {
        let ids = ((try? FileManager.default.contentsOfDirectory(atPath: models.path)) ?? []).sorted()
        return ids.flatMap { id in
            (((try? FileManager.default.contentsOfDirectory(atPath: models.appendingPathComponent(id).path)) ?? [])
                .filter { $0.hasSuffix(".onnx") }.sorted()).map { "\(id)/\($0)" }
        }
    }

    static func path(_ relative: String) -> String { models.appendingPathComponent(relative).path }

    /// The model and the fixture's input, with the graph's non-batch input dims fixed to the input's.
    static func load(_ relative: String) throws -> (model: Model, feeds: [String: Tensor], expected: Tensor) {
        var model = try ONNXReader.read(contentsOf: path(relative))
        let id = relative.split(separator: "/")[0]
        let io = try NPZ.read(contentsOf: path("\(id)/io.npz"))
        let input = io.first { $0.name == "input" }!.tensor
        let output = io.first { $0.name == "output" }!.tensor
        let feeds = [model.graph.inputs[0].name: input]
        model.graph.bindSpatialDims(feeds)
        return (model, feeds, output)
    }

    static func maxDifference(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.doubles, b.doubles).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// |a − b| ≤ atol + rtol·|b| everywhere.
    static func allClose(_ a: Tensor, _ b: Tensor, atol: Double, rtol: Double) -> Bool {
        a.shape == b.shape && zip(a.doubles, b.doubles).allSatisfy { abs($0 - $1) <= atol + rtol * abs($1) }
    }
}
