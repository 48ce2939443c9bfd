import Formats
import Foundation
import IR
import Testing

/// Broken files give exit 2 and one line on stderr naming the file and the problem, never a crash, never output.
@Suite struct BadInputTests {
    static let cases: [(file: String, mentions: [String])] = [
        ("bad/truncated.onnx", ["truncated or corrupt"]),
        ("bad/random.onnx", ["not an ONNX model"]),
        ("bad/model.onnx", ["Git LFS pointer"]),
        ("bad/empty.onnx", ["empty"]),
        ("bad/unknown_ops.onnx", ["FancyOp", "fancy_1", "WeirdOp", "weird_2"]),
        ("bad/external_escape.onnx", ["escapes the model's folder"]),
        ("bad/external_absolute.onnx", ["absolute path"]),
        ("bad/external_out_of_range.onnx", ["past the end"]),
        ("bad/truncated.npz", ["truncated"]),
        ("bad/corrupt_header.npz", []),
        ("bad/crc_mismatch.npz", ["CRC"]),
        ("does-not-exist.onnx", ["no such file"]),
    ]

    @Test(arguments: cases.map(\.file))
    func badModelFileExitsTwoWithOneLine(_ file: String) throws {
        let mentions = Self.cases.first { $0.file == file }!.mentions
        let path = EffnetProcess.fixture(file)
        for verb in [["inspect"], ["verify"]] {
            let r = try EffnetProcess.run(verb + [path])
            #expect(r.status == 2, "\(verb[0]) \(file): status \(r.status)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(verb[0]) \(file): \(r.stderr)")
            #expect(r.stderr.hasPrefix("effnet: ") && r.stderr.contains(path), "\(r.stderr)")
            for m in mentions { #expect(r.stderr.contains(m), "\(file): '\(m)' not in \(r.stderr)") }
            #expect(r.stdout.isEmpty)
        }
        let out = try EffnetProcess.scratch().appendingPathComponent("out.onnx").path
        let c = try EffnetProcess.run(["convert", path, "-o", out])
        #expect(c.status == 2)
        #expect(!FileManager.default.fileExists(atPath: out), "convert left an output after failing")
    }

    @Test func checkpointWithMissingAndReshapedTensorsNamesBoth() throws {
        // Written by the test: the timm fixture checkpoint without one tensor and with another reshaped.
        let dir = try EffnetProcess.scratch()
        let path = dir.appendingPathComponent("broken.npz").path
        try BrokenCheckpoint.write(to: path)
        let r = try EffnetProcess.run(["inspect", path])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(
            r.stderr.contains(BrokenCheckpoint.removed) && r.stderr.contains(BrokenCheckpoint.reshaped), "\(r.stderr)")
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try EffnetProcess.run(["inspect"]).status == 2)
        #expect(try EffnetProcess.run(["no-such-verb"]).status == 2)
        #expect(try EffnetProcess.run(["bench", "x.onnx", "--iterations", "0"]).status == 2)
        #expect(try EffnetProcess.run(["--help"]).status == 0)
    }
}

enum BrokenCheckpoint {
    static let removed = "blocks.1.0.bn1.running_var"
    static let reshaped = "blocks.3.0.conv_pw.weight"

    static func write(to path: String) throws {
        var arrays = try NPZ.read(contentsOf: EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/checkpoint.npz"))
        arrays.removeAll { $0.name == removed }
        if let k = arrays.firstIndex(where: { $0.name == reshaped }) {
            let t = arrays[k].tensor
            arrays[k].tensor = t.reshaped([t.shape[0] * t.shape[1], 1, 1, 1])
        }
        try NPZ.write(arrays, to: path, compressed: false)
    }
}
