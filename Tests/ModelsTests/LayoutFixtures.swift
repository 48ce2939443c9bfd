import Foundation
import IR
import Models

/// One framework state-dict layout dumped by `tools/dump_checkpoint_layouts.py` (names and shapes, no values).
struct LayoutFixture: Sendable, CustomStringConvertible {
    var id: String
    var framework: String
    var scheme: String
    var model: String
    var expectedArch: String
    var standard: Bool
    var stageBlocks: [Int]
    var numClasses: Int
    var parameters: Int
    var buffers: Int
    var tensors: [(name: String, shape: [Int], dtype: String)]
    /// EfficientNet (V1) and Lite: the framework's stage table, read from its modules (first block's depthwise
    /// kernel and stride, output channels, block count, squeeze-excitation); nil for other layouts.
    var stages: [Stage]?

    struct Stage: Equatable, CustomStringConvertible {
        var kernel: Int
        var stride: Int
        var channels: Int
        var layers: Int
        var se: Bool
        var description: String { "k\(kernel) s\(stride) c\(channels) ×\(layers)\(se ? " SE" : "")" }
    }

    var description: String { "\(framework)/\(id)" }

    var layout: [(name: String, shape: [Int])] { tensors.map { ($0.name, $0.shape) } }

    /// Number of weight values (what a zero-filled checkpoint would allocate).
    var elementCount: Int { tensors.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    /// A checkpoint of zeros with the framework's names, shapes and dtypes.
    func zeroCheckpoint() -> Checkpoint {
        Checkpoint(tensors: tensors.map { ($0.name, Tensor.zeros(LayoutFixture.dtype($0.dtype), shape: $0.shape)) })
    }

    /// A checkpoint whose every value is distinct and deterministic, for value-preserving round trips;
    /// running variances are positive.
    func patternCheckpoint() -> Checkpoint {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        return Checkpoint(
            tensors: tensors.map { t in
                let dtype = LayoutFixture.dtype(t.dtype)
                let n = t.shape.reduce(1, *)
                if !dtype.isFloatingPoint { return (t.name, Tensor.zeros(dtype, shape: t.shape)) }
                let positive = t.name.hasSuffix("running_var") || t.name.hasSuffix("moving_variance")
                let values = (0..<n).map { _ -> Float in
                    seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    let u = Float(seed >> 40) / Float(1 << 24)
                    return positive ? 0.5 + u : u - 0.5
                }
                return (t.name, Tensor(shape: t.shape, floats: values))
            })
    }

    static func dtype(_ name: String) -> DType {
        switch name {
        case "int64": .int64
        case "float16": .float16
        case "float64": .float64
        default: .float32
        }
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../fixtures/layouts").standardized

    /// Every dumped layout, sorted by framework and id.
    static let all: [LayoutFixture] = {
        let fm = FileManager.default
        var out = [LayoutFixture]()
        for framework in ["timm", "torchvision", "keras", "efficientnet-pytorch"] {
            let folder = directory.appendingPathComponent(framework)
            let files = (try? fm.contentsOfDirectory(atPath: folder.path)) ?? []
            for file in files.sorted() where file.hasSuffix(".json.gz") {
                out.append(load(folder.appendingPathComponent(file)))
            }
        }
        precondition(!out.isEmpty, "no layouts under \(directory.path); run tools/dump_checkpoint_layouts.py")
        return out
    }()

    static func named(_ id: String) -> LayoutFixture { all.first { $0.id == id }! }

    /// Decompresses with the system `gzip` (tests only; the library never shells out).
    private static func load(_ url: URL) -> LayoutFixture {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try! process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let json = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        let tensors = (json["tensors"] as! [[Any]]).map { entry in
            (
                name: entry[0] as! String, shape: (entry[1] as! [Any]).map { ($0 as! NSNumber).intValue },
                dtype: entry[2] as! String
            )
        }
        return LayoutFixture(
            id: json["id"] as! String, framework: json["framework"] as! String, scheme: json["scheme"] as! String,
            model: json["model"] as! String, expectedArch: json["expected_arch"] as! String,
            standard: json["standard"] as! Bool, stageBlocks: (json["stage_blocks"] as! [NSNumber]).map(\.intValue),
            numClasses: (json["num_classes"] as! NSNumber).intValue,
            parameters: (json["parameters"] as! NSNumber).intValue, buffers: (json["buffers"] as! NSNumber).intValue,
            tensors: tensors,
            stages: (json["stages"] as? [[String: Any]])?.map { st in
                Stage(
                    kernel: (st["kernel"] as! NSNumber).intValue, stride: (st["stride"] as! NSNumber).intValue,
                    channels: (st["channels"] as! NSNumber).intValue, layers: (st["layers"] as! NSNumber).intValue,
                    se: st["se"] as! Bool)
            })
    }
}
