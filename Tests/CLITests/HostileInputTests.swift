import Foundation
import Testing

/// Inputs that once crashed, hung, exhausted memory, lost data or were reported unclearly (fixtures/hostile, made by
/// tools/make_hostile_fixtures.py, plus FIFOs and flags made here). Each gives its exact one-line message and exit 2.
///
/// Memory-budget messages depend on the limit, so those cases pass `--max-memory 1G` to make the text exact.
@Suite struct HostileInputTests {
    static func hostile(_ name: String) -> String { EffnetProcess.fixture("hostile/" + name) }
    static let model = EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/torchscript.onnx")
    static let budget = "more than the memory budget of 1.0 GiB (1073741824 bytes) (--max-memory)"

    /// (arguments, the exact stderr line without the trailing newline).
    static let cases: [(arguments: [String], line: String)] = [
        (
            ["inspect", hostile("conv_pads_overflow.onnx")],
            "effnet: \(hostile("conv_pads_overflow.onnx")): node 'conv_0': input size 8, kernel 3, stride 1, dilation 1 and pads [9223372036854775807, 9223372036854775807, 9223372036854775807, 9223372036854775807] overflow 64-bit arithmetic on spatial axis 0"
        ),
        (
            ["verify", hostile("conv_zero_strides.onnx")],
            "effnet: \(hostile("conv_zero_strides.onnx")): node 'c': strides [0, 0] must be 2 positive values"
        ),
        (
            ["verify", hostile("huge_input.onnx"), "--max-memory", "1G"],
            "effnet: \(hostile("huge_input.onnx")): random input 'input' 1x3x1048576x1048576 needs 24.0 TiB (26388279066624 bytes), \(budget)"
        ),
        (
            ["bench", hostile("huge_input.onnx"), "--max-memory", "1G"],
            "effnet: \(hostile("huge_input.onnx")): input 'input' 1x3x1048576x1048576 needs 12.0 TiB (13194139533312 bytes), \(budget)"
        ),
        (
            ["bench", hostile("overflow_input.onnx"), "--max-memory", "1G"],
            "effnet: \(hostile("overflow_input.onnx")): input 'input' 1x3x1099511627776x1099511627776 needs more than 2^63 bytes, \(budget)"
        ),
        (
            ["inspect", hostile("constant_of_shape_huge.onnx"), "--max-memory", "1G"],
            "effnet: \(hostile("constant_of_shape_huge.onnx")): ConstantOfShape node 'cos_0' output [68719476736] float32 needs 256.0 GiB (274877906944 bytes), \(budget)"
        ),
        (
            ["verify", hostile("pad_huge.onnx"), "--max-memory", "1G"],
            "effnet: \(hostile("pad_huge.onnx")): Pad node 'pad_0' output [17179869185] needs 128.0 GiB (137438953480 bytes), \(budget)"
        ),
        (
            ["inspect", hostile("no_opset.onnx")],
            "effnet: \(hostile("no_opset.onnx")): the model declares no opset_import for the default ONNX domain, so its operator versions are unknown"
        ),
        (
            ["verify", hostile("no_outputs.onnx")],
            "effnet: \(hostile("no_outputs.onnx")): the graph declares no outputs, so it computes nothing"
        ),
        (
            ["inspect", hostile("zeros_1gib.npz")],
            "effnet: \(hostile("zeros_1gib.npz")): 'conv_stem.weight.npy': inflates 1043724 bytes to 1073741952 (1028:1); members compressed beyond 100:1 would inflate to 1073741952 bytes, more than the 268435456 accepted: refused as a compression bomb"
        ),
        (
            ["run", hostile("wide_1000001x1.png"), "-m", model],
            "effnet: \(hostile("wide_1000001x1.png")): unsupported image: too large: 1000001x1 pixels; PNG sides are limited to 1000000 (libpng's limit)"
        ),
        (
            ["run", hostile("png_itxt_1700mb.png"), "-m", model],
            "effnet: \(hostile("png_itxt_1700mb.png")): truncated PNG (unexpected end of data)"
        ),
        (
            ["run", hostile("jpeg_143mpixel_hidden.jpg"), "-m", model],
            "effnet: \(hostile("jpeg_143mpixel_hidden.jpg")): unsupported image: 65435x2187 is more than --max-pixels 100000000"
        ),
        (
            ["run", "/dev/zero", "-m", model],
            "effnet: /dev/zero: cannot read image file: is a character device, not a regular file"
        ),
        (
            ["bench", model, "--batch", "100000", "--max-memory", "1G"],
            "effnet: \(model): --batch 100000 input 100000x3x100x100 needs 22.4 GiB (24000000000 bytes), \(budget)"
        ),
        (["bench", model, "--threads", "10000"], "Error: --threads must be between 1 and 256"),
        (["verify", model, "--tolerance", "-1"], "Error: --tolerance must be a non-negative number"),
        (["bench", model, "--batch", "-3"], "Error: --batch must be at least 1"),
        (
            ["run", EffnetProcess.fixture("images/chelsea.png"), "-m", model, "--crop-pct", "1e-6"],
            "effnet: crop fraction 1e-06 at size 100 would resize the shorter side to more than 65536 pixels"
        ),
        (
            ["inspect", model, "--arch", "tf_efficientnetv2_b0"],
            "effnet: \(model): --arch tf_efficientnetv2_b0 applies only to checkpoints; an ONNX graph fixes its own architecture"
        ),
        (
            ["inspect", model, "--max-memory", "lots"],
            "Error: --max-memory must be a positive size such as 512M or 2G, got 'lots'"
        ),
    ]

    @Test(arguments: cases.indices)
    func hostileInputGivesItsExactLineAndExitTwo(_ index: Int) throws {
        let (arguments, line) = Self.cases[index]
        let r = try EffnetProcess.run(arguments)
        #expect(r.status == 2, "\(arguments): status \(r.status), \(r.stderr)")
        #expect(r.stderr == line + "\n", "\(arguments)")
        #expect(r.stdout.isEmpty, "\(arguments): \(r.stdout)")
    }

    /// Inputs that must simply work: an opset-1 Reshape (its shape is an attribute; the runtime once read a second
    /// input that does not exist), and a 1 × 1,000,000 PNG whose resize tables once spanned 224,000,000 rows.
    @Test func opsetOneReshapeVerifies() throws {
        let r = try EffnetProcess.run(["verify", Self.hostile("reshape_opset1.onnx")])
        #expect(r.status == 0, "\(r.stderr)\(r.stdout)")
    }

    @Test func tallImageRunsInBoundedMemory() throws {
        // 300 MB is far below the 2.7 GB the full-axis tables took; --max-memory makes any large buffer an error.
        let r = try EffnetProcess.run([
            "run", Self.hostile("tall_1x1000000.png"), "-m", Self.model, "--json", "--max-memory", "300M",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect((r.json?["results"] as? [Any])?.count == 1)
    }

    /// A bfloat16 Add's output is bfloat16: effnet computes in float32, then rounds each output the file declares
    /// half-precision to that type, so it equals the bfloat16 sums exactly (4 of the 8 differ in float32; with
    /// the float32 sums verify failed even at the default 1e-4).
    @Test func bfloat16AddRoundsToBFloat16() throws {
        let r = try EffnetProcess.run([
            "verify", Self.hostile("bfloat16_add.onnx"), "--reference", Self.hostile("bfloat16_add.npz"),
            "--tolerance", "0", "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)\(r.stdout)")
        let json = try #require(r.json, "stdout: \(r.stdout)")
        #expect(json["passed"] as? Bool == true)
        let checks = try #require(json["checks"] as? [[String: Any]])
        #expect(checks.map { $0["path"] as? String } == ["reference-interpreter", "runtime", "runtime vs reference-interpreter"])
        #expect(checks.allSatisfy { $0["passed"] as? Bool == true })
    }

    /// A 104-byte PNG whose iTXt chunk declares 1.7 GB: libpng once allocated and cleared the declared length (the
    /// png fuzz target's finding). Under a 1 GB address-space limit the allocation would fail with another message.
    @Test func pngTextChunkIsNotAllocatedAtItsDeclaredLength() throws {
        let path = Self.hostile("png_itxt_1700mb.png")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -v 1048576 && exec \"$0\" \"$@\"", EffnetProcess.binary, "run", path, "-m", Self.model]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
        #expect(stderr == "effnet: \(path): truncated PNG (unexpected end of data)\n")
    }

    @Test func jsonErrorsAreADocumentOnStdout() throws {
        let path = Self.hostile("conv_zero_strides.onnx")
        let r = try EffnetProcess.run(["inspect", path, "--json"])
        #expect(r.status == 2)
        let json = try #require(r.json, "stdout: \(r.stdout)")
        #expect(json["file"] as? String == path)
        #expect(json["error"] as? String == "node 'c': strides [0, 0] must be 2 positive values")
        let usage = try EffnetProcess.run(["verify", Self.model, "--tolerance", "-1", "--json"])
        #expect(usage.status == 2)
        #expect(usage.json?["error"] as? String == "Error: --tolerance must be a non-negative number")
        #expect(usage.json?.keys.contains("file") == true)
    }

    // MARK: - Non-regular files: refused at once, never waited on

    /// Runs effnet and fails the test (killing it) if it has not finished within 20 s: a FIFO once blocked forever.
    static func runBounded(_ arguments: [String]) throws -> EffnetProcess.Result {
        let p = try EffnetProcess.start(arguments)
        let deadline = Date().addingTimeInterval(20)
        while p.process.isRunning && Date() < deadline { usleep(20_000) }
        if p.process.isRunning {
            kill(p.process.processIdentifier, SIGKILL)
            p.process.waitUntilExit()
            Issue.record("\(arguments) did not finish within 20 s")
        }
        return EffnetProcess.Result(
            status: p.process.terminationStatus, stdout: try String(contentsOf: p.out, encoding: .utf8),
            stderr: try String(contentsOf: p.err, encoding: .utf8))
    }

    static func fifo(in dir: URL, named name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        #expect(mkfifo(path, 0o600) == 0)
        return path
    }

    @Test func fifoAsModelIsRefused() throws {
        let path = try Self.fifo(in: try EffnetProcess.scratch(), named: "model.onnx")
        let r = try Self.runBounded(["inspect", path])
        #expect(r.status == 2)
        #expect(r.stderr == "effnet: \(path): cannot open: is a FIFO (named pipe), not a regular file\n")
    }

    @Test func fifoAsExternalDataIsRefused() throws {
        let dir = try EffnetProcess.scratch()
        let model = dir.appendingPathComponent("external.onnx").path
        try FileManager.default.copyItem(
            atPath: EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/external.onnx"), toPath: model)
        _ = try Self.fifo(in: dir, named: "external.onnx.data")
        let r = try Self.runBounded(["inspect", model])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("effnet: \(model): tensor '"), "\(r.stderr)")
        #expect(
            r.stderr.hasSuffix(
                "': external data: cannot open 'external.onnx.data': is a FIFO (named pipe), not a regular file\n"),
            "\(r.stderr)")
    }

    @Test func fifoAsImageIsRefused() throws {
        let path = try Self.fifo(in: try EffnetProcess.scratch(), named: "photo.png")
        let r = try Self.runBounded(["run", path, "-m", Self.model])
        #expect(r.status == 2)
        #expect(r.stderr == "effnet: \(path): cannot read image file: is a FIFO (named pipe), not a regular file\n")
    }

    @Test func fifoAsLabelsIsRefused() throws {
        let path = try Self.fifo(in: try EffnetProcess.scratch(), named: "labels.txt")
        let r = try Self.runBounded(["run", EffnetProcess.fixture("images/chelsea.png"), "-m", Self.model, "--labels", path])
        #expect(r.status == 2)
        #expect(
            r.stderr == "effnet: \(path): cannot read the labels file: is a FIFO (named pipe), not a regular file\n")
    }

    // MARK: - convert never destroys an input and leaves nothing behind

    @Test func convertRefusesToOverwriteTheInputsExternalData() throws {
        let dir = try EffnetProcess.scratch()
        let source = EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/external.onnx")
        let model = dir.appendingPathComponent("a.onnx").path
        try FileManager.default.copyItem(atPath: source, toPath: model)
        // a.onnx reads its weights from external.onnx.data; b.onnx --external-data would write b.onnx.data.
        let data = dir.appendingPathComponent("external.onnx.data").path
        try FileManager.default.copyItem(atPath: source + ".data", toPath: data)
        let before = try Data(contentsOf: URL(fileURLWithPath: data))
        let output = dir.appendingPathComponent("external.onnx").path
        let r = try EffnetProcess.run(["convert", model, "-o", output, "--external-data"])
        #expect(r.status == 2)
        let resolved = try #require(realpath(data, nil).map { p in defer { free(p) }; return String(cString: p) })
        #expect(
            r.stderr
                == "effnet: \(output): would overwrite '\(resolved)', an external data file of the input model; choose another output path\n"
        )
        #expect(try Data(contentsOf: URL(fileURLWithPath: data)) == before)
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// The fallback for file systems without O_TMPFILE (forced with `EFFNET_TEST_NO_TMPFILE`): SIGTERM, SIGINT and
    /// SIGHUP while the named temporary files exist remove them.
    @Test(arguments: [SIGTERM, SIGINT, SIGHUP])
    func signalledConversionLeavesNothing(_ signal: Int32) throws {
        let dir = try EffnetProcess.scratch()
        let out = dir.appendingPathComponent("o.onnx").path
        let p = try EffnetProcess.start(
            ["convert", Self.model, "-o", out, "--external-data"],
            environment: ["EFFNET_TEST_COMMIT_DELAY_MS": "20000", "EFFNET_TEST_NO_TMPFILE": "1"])
        let deadline = Date().addingTimeInterval(60)
        var names = [String]()
        while Date() < deadline {
            names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            if names.contains(where: { $0.hasPrefix(".o.onnx.effnet-") }) { break }
            usleep(20_000)
        }
        #expect(names.contains { $0.hasPrefix(".o.onnx.effnet-") }, "no temporary file appeared: \(names)")
        kill(p.process.processIdentifier, signal)
        p.process.waitUntilExit()
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(left.filter { $0.contains("effnet-") }.isEmpty, "left behind: \(left)")
        #expect(!left.contains("o.onnx"))
    }
}
