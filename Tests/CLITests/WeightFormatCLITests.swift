import Formats
import Foundation
import IR
import Testing

/// Weight files where users keep them (`fixtures/formats/`, made by tools/make_format_fixtures.py from the
/// frameworks themselves): each verifies against its framework's outputs at 1e-4 (Keras softmax: atol 1e-6,
/// rtol 1e-4), is recognised by content, and converts.
@Suite struct WeightFormatCLITests {
    /// `<id>/<file>` of every weight file in fixtures/formats, with the reference beside it.
    static let files = [
        "timm_tf_efficientnetv2_b0/model.safetensors",
        "timm_tf_efficientnetv2_b0/pytorch_model.bin",
        "timm_tf_efficientnetv2_b0/nested_legacy.pth",
        "torchvision_efficientnet_v2_s/nested.pth",
        "torchvision_efficientnet_v2_s/legacy.pth",
        "keras_efficientnetv2_b0/model.weights.h5",
        "keras_efficientnetv2_b0/model.keras",
        "keras_efficientnetv2_b0/legacy.h5",
        "keras_efficientnetv2_b0/split.h5",
    ]

    @Test(arguments: files)
    func verifiesAgainstTheFramework(_ file: String) throws {
        let id = String(file.split(separator: "/")[0])
        let r = try EffnetProcess.run(
            ["verify", EffnetProcess.fixture("formats/" + file), "--reference", EffnetProcess.fixture("formats/\(id)/io.npz"), "--json"]
                + EffnetProcess.toleranceArguments(id) + EffnetProcess.archArguments(id))
        #expect(r.status == 0, "\(file): \(r.stderr)\(r.stdout)")
        #expect(r.json?["passed"] as? Bool == true)
    }

    @Test(arguments: [files[0], files[2], files[6]])
    func inspectAndBenchAccept(_ file: String) throws {
        let id = String(file.split(separator: "/")[0])
        let path = EffnetProcess.fixture("formats/" + file)
        let inspect = try EffnetProcess.run(["inspect", path, "--json"] + EffnetProcess.archArguments(id))
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect((inspect.json?["blocks"] as? [Any])?.isEmpty == false)
        let bench = try EffnetProcess.run(
            ["bench", path, "--iterations", "1", "--warmup", "0", "--json"] + EffnetProcess.archArguments(id))
        #expect(bench.status == 0, "\(bench.stderr)")
    }

    /// safetensors → .npz → safetensors → .npz: tensors bit-identical at every step (no optimization involved),
    /// and the .npz equals the torch.save state dict of the same model except the BN step counters (written as 0).
    @Test func safetensorsRoundTripsThroughNPZ() throws {
        let dir = try EffnetProcess.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = EffnetProcess.fixture("formats/timm_tf_efficientnetv2_b0/model.safetensors")
        let a = dir.appendingPathComponent("a.npz").path
        let b = dir.appendingPathComponent("b.safetensors").path
        let c = dir.appendingPathComponent("c.npz").path
        for (from, to) in [(src, a), (a, b), (b, c)] {
            let r = try EffnetProcess.run(["convert", from, "-o", to])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let original = try TorchCheckpoint.read(
            contentsOf: EffnetProcess.fixture("formats/timm_tf_efficientnetv2_b0/pytorch_model.bin"))
        let first = try NPZ.read(contentsOf: a)
        #expect(try NPZ.read(contentsOf: c) == first)
        #expect(try Safetensors.read(contentsOf: b).map(\.name).sorted() == first.map(\.name).sorted())
        let byName = Dictionary(uniqueKeysWithValues: first.map { ($0.name, $0.tensor) })
        for t in original where !t.name.hasSuffix("num_batches_tracked") {
            #expect(byName[t.name] == t.tensor, "\(t.name)")
        }
    }

    /// ONNX → timm safetensors (--naming) → ONNX --no-optimize keeps the graph's weights.
    @Test func onnxConvertsToNamedSafetensors() throws {
        let dir = try EffnetProcess.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("m.safetensors").path
        let r = try EffnetProcess.run([
            "convert", EffnetProcess.fixture("models/torchvision_efficientnet_v2_s/torchscript_nofold.onnx"), "-o", out,
            "--naming", "torchvision",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let names = try Safetensors.read(contentsOf: out).map(\.name)
        #expect(names.contains("features.0.0.weight"))
        let v = try EffnetProcess.run([
            "verify", out, "--reference", EffnetProcess.fixture("models/torchvision_efficientnet_v2_s/io.npz"),
            "--tolerance", "1e-4",
        ])
        #expect(v.status == 0, "\(v.stderr)\(v.stdout)")
    }

    @Test func namingWithOnnxOutputIsAUsageError() throws {
        let r = try EffnetProcess.run([
            "convert", EffnetProcess.fixture("formats/timm_tf_efficientnetv2_b0/model.safetensors"), "-o", "/tmp/x.onnx",
            "--naming", "timm",
        ])
        #expect(r.status == 2)
    }

    /// A pickle that would run `os.system("touch MARKER")` is refused with exit 2 naming the global, and the
    /// marker never appears: nothing in the file was run. Also a file that ends mid-storage and one whose header
    /// lies about its length.
    @Test func maliciousAndDamagedFilesExitTwo() throws {
        let dir = try EffnetProcess.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let marker = dir.appendingPathComponent("ran").path
        let command = Array("touch \(marker)".utf8)
        var pickle: [UInt8] = [0x80, 0x02, 0x63] + Array("os\nsystem\n".utf8) + [0x58]
        pickle += withUnsafeBytes(of: UInt32(command.count).littleEndian, Array.init) + command + [0x85, 0x52, 0x2e]
        let evil = dir.appendingPathComponent("evil.pth").path
        try Data(pickle).write(to: URL(fileURLWithPath: evil))
        for verb in [["verify"], ["inspect"], ["convert", "-o", dir.appendingPathComponent("o.npz").path]] {
            let r = try EffnetProcess.run([verb[0], evil] + verb.dropFirst())
            #expect(r.status == 2)
            #expect(r.stderr.contains("os.system"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.npz").path))

        let legacy = try Data(contentsOf: URL(fileURLWithPath: EffnetProcess.fixture("formats/torchvision_efficientnet_v2_s/legacy.pth")))
        let cut = dir.appendingPathComponent("cut.pth").path
        try legacy.prefix(legacy.count - 1000).write(to: URL(fileURLWithPath: cut))
        var st = try [UInt8](Data(contentsOf: URL(fileURLWithPath: EffnetProcess.fixture("formats/timm_tf_efficientnetv2_b0/model.safetensors"))))
        st[0] = 0xff
        st[1] = 0xff
        let lying = dir.appendingPathComponent("lying.safetensors").path
        try Data(st).write(to: URL(fileURLWithPath: lying))
        let h5 = try Data(contentsOf: URL(fileURLWithPath: EffnetProcess.fixture("formats/keras_efficientnetv2_b0/model.weights.h5")))
        let cutH5 = dir.appendingPathComponent("cut.weights.h5").path
        try h5.prefix(h5.count / 2).write(to: URL(fileURLWithPath: cutH5))
        for bad in [cut, lying, cutH5] {
            let r = try EffnetProcess.run(["inspect", bad])
            #expect(r.status == 2, "\(bad): \(r.stderr)")
            #expect(r.stderr.contains(bad))
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        }
    }

    /// onnxconverter-common float16 output, both keep_io_types settings: verifies against onnxruntime's output of
    /// the same file within the stated half-precision tolerance (reported in `tolerance_reason`), the Cast pairs
    /// are gone from the optimized graph, and the native runtime still meets 1e-4 against the interpreter.
    @Test(arguments: [("fp16.onnx", "io_fp16.npz"), ("fp16_io.onnx", "io_fp16_io.npz")])
    func halfPrecisionOnnxVerifies(file: String, reference: String) throws {
        let dir = "formats/torchvision_efficientnet_v2_s/"
        let r = try EffnetProcess.run([
            "verify", EffnetProcess.fixture(dir + file), "--reference", EffnetProcess.fixture(dir + reference), "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)\(r.stdout)")
        let json = try #require(r.json)
        #expect(json["atol"] as? Double == 5e-2)
        #expect((json["tolerance_reason"] as? String)?.contains("float16") == true)
        let checks = try #require(json["checks"] as? [[String: Any]])
        let direct = try #require(checks.first { $0["path"] as? String == "runtime vs reference-interpreter" })
        let maxAbs = try #require((direct["outputs"] as? [[String: Any]])?.first?["max_abs"] as? Double)
        #expect(maxAbs <= 1e-4)
        let inspect = try EffnetProcess.run(["inspect", EffnetProcess.fixture(dir + file), "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let ops = try #require(inspect.json?["ops"] as? [String: Int])
        #expect(ops["Cast"] == nil, "\(ops)")
        #expect((inspect.json?["blocks"] as? [Any])?.count == 6)
        // An explicit tolerance replaces the half-precision one: 1e-4 against the float32 framework fails.
        let strict = try EffnetProcess.run([
            "verify", EffnetProcess.fixture(dir + file), "--reference", EffnetProcess.fixture(dir + "io.npz"),
            "--tolerance", "1e-4",
        ])
        #expect(strict.status == 1)
    }
}
