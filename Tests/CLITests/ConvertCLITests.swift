import Formats
import Foundation
import IR
import Testing

/// `effnet convert`: output kinds, exact round trips, and output safety (temporary file + rename, never over the
/// input, nothing left behind by a failure or a kill).
@Suite struct ConvertCLITests {
    static let model = EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/torchscript.onnx")
    static let checkpoint = EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/checkpoint.npz")

    @Test func npzToOnnxToNpzIsBitIdentical() throws {
        let dir = try EffnetProcess.scratch()
        let onnx = dir.appendingPathComponent("m.onnx").path
        let back = dir.appendingPathComponent("back.npz").path
        #expect(try EffnetProcess.run(["convert", Self.checkpoint, "-o", onnx, "--no-optimize"]).status == 0)
        let r = try EffnetProcess.run(["convert", onnx, "-o", back])
        #expect(r.status == 0, "\(r.stderr)")
        let original = Dictionary(
            uniqueKeysWithValues: try NPZ.read(contentsOf: Self.checkpoint).map { ($0.name, $0.tensor) })
        let roundTrip = Dictionary(uniqueKeysWithValues: try NPZ.read(contentsOf: back).map { ($0.name, $0.tensor) })
        for (name, tensor) in original where !name.hasSuffix("num_batches_tracked") {
            #expect(roundTrip[name] == tensor, "\(name) changed in the round trip")
        }
    }

    @Test func onnxToOnnxWithoutOptimizingKeepsInitializers() throws {
        let out = try EffnetProcess.scratch().appendingPathComponent("plain.onnx").path
        #expect(try EffnetProcess.run(["convert", Self.model, "-o", out, "--no-optimize"]).status == 0)
        let a = try ONNXReader.read(contentsOf: Self.model).graph.initializers
        let b = try ONNXReader.read(contentsOf: out).graph.initializers
        #expect(a == b)
    }

    @Test func optimizedOnnxIsStandardAndSmaller() throws {
        let out = try EffnetProcess.scratch().appendingPathComponent("opt.onnx").path
        let r = try EffnetProcess.run(["convert", Self.model, "-o", out, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(r.json)
        #expect((report["passes"] as? [Any])?.isEmpty == false)
        let graph = try ONNXReader.read(contentsOf: out).graph
        let ops = Set(graph.nodes.map(\.opType))
        #expect(
            ops.isDisjoint(with: ["BatchNormalization", "Identity", "Shape", "Gather", "Pad", "Constant"]), "\(ops)")
        #expect(graph.nodes.allSatisfy { $0.domain.isEmpty })
        // The optimized file still computes what the framework computed.
        let v = try EffnetProcess.run([
            "verify", out, "--reference", EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/io.npz"),
            "--tolerance", "1e-4",
        ])
        #expect(v.status == 0, "\(v.stdout)")
    }

    @Test func externalDataWritesOneDataFile() throws {
        let dir = try EffnetProcess.scratch()
        let out = dir.appendingPathComponent("ext.onnx").path
        #expect(try EffnetProcess.run(["convert", Self.model, "-o", out, "--external-data"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: out + ".data"))
        #expect(try ONNXReader.read(contentsOf: out).graph.parameterCount > 0)
    }

    @Test func renamesBetweenSchemes() throws {
        let out = try EffnetProcess.scratch().appendingPathComponent("tv.npz").path
        let tv = EffnetProcess.fixture("models/torchvision_efficientnet_v2_s/checkpoint.npz")
        #expect(try EffnetProcess.run(["convert", tv, "-o", out, "--naming", "timm"]).status == 0)
        let names = try NPZ.read(contentsOf: out).map(\.name)
        #expect(names.contains("conv_stem.weight") && names.contains("blocks.0.0.conv.weight"))
    }

    @Test func refusesToOverwriteItsInput() throws {
        let dir = try EffnetProcess.scratch()
        let copy = dir.appendingPathComponent("m.onnx").path
        try FileManager.default.copyItem(atPath: Self.model, toPath: copy)
        let before = try Data(contentsOf: URL(fileURLWithPath: copy))
        let link = dir.appendingPathComponent("link.onnx").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: copy)
        for output in [copy, link, dir.appendingPathComponent("./m.onnx").path] {
            let r = try EffnetProcess.run(["convert", copy, "-o", output])
            #expect(r.status == 2, "\(output): \(r.stderr)")
            #expect(r.stderr.contains("is the input model"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == before)
    }

    @Test func existingOutputIsReplacedOnlyWhole() throws {
        let out = try EffnetProcess.scratch().appendingPathComponent("o.onnx").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: out))
        #expect(try EffnetProcess.run(["convert", Self.model, "-o", out]).status == 0)
        #expect(try ONNXReader.read(contentsOf: out).graph.nodes.count > 0)
    }

    /// kill -9 while the finished temporary file waits to be renamed (`EFFNET_TEST_COMMIT_DELAY_MS` holds it there):
    /// nothing appears at the output path, and nothing at all is left in the folder (the temporary file is an
    /// unnamed O_TMPFILE inode, seen only as the process's open descriptor into the folder).
    @Test func killedConversionLeavesNothing() throws {
        let dir = try EffnetProcess.scratch()
        let out = dir.appendingPathComponent("killed.onnx").path
        let p = try EffnetProcess.start(
            ["convert", Self.model, "-o", out, "--external-data"], environment: ["EFFNET_TEST_COMMIT_DELAY_MS": "20000"])
        // Wait until the process holds its temporary file open (a descriptor pointing into `dir`).
        let deadline = Date().addingTimeInterval(60)
        var sawTemporary = false
        let fds = "/proc/\(p.process.processIdentifier)/fd"
        while Date() < deadline && !sawTemporary {
            for fd in (try? FileManager.default.contentsOfDirectory(atPath: fds)) ?? [] {
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: fds + "/" + fd),
                    target.hasPrefix(dir.path + "/")
                {
                    sawTemporary = true
                }
            }
            usleep(20_000)
        }
        usleep(300_000)
        kill(p.process.processIdentifier, SIGKILL)
        p.process.waitUntilExit()
        #expect(sawTemporary, "the conversion never reached its temporary file")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(left.isEmpty, "a killed conversion left \(left)")
    }

    @Test func badOutputKindIsUsageError() throws {
        let r = try EffnetProcess.run(["convert", Self.model, "-o", "/tmp/x.txt"])
        #expect(r.status == 2)
    }
}
