import Foundation
import Testing

@Suite struct InspectRunBenchTests {
    @Test func inspectJSONHasTheDesignFields() throws {
        let r = try EffnetProcess.run([
            "inspect", EffnetProcess.fixture("models/timm_tf_efficientnetv2_s/torchscript.onnx"), "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(r.json)
        for key in [
            "format", "producer", "opset", "inputs", "outputs", "ops", "parameters", "macs", "architecture", "blocks",
        ] {
            #expect(json.keys.contains(key), "missing \(key)")
        }
        #expect(json["format"] as? String == "onnx")
        let blocks = try #require(json["blocks"] as? [[String: Any]])
        // The fixture's stage depths (1, 2, 2, 2, 2, 2): 3 Fused-MBConv stages, then 3 MBConv stages with SE.
        #expect(blocks.count == 11)
        #expect(blocks.prefix(5).allSatisfy { $0["kind"] as? String == "fused_mbconv" })
        #expect(blocks.suffix(6).allSatisfy { $0["kind"] as? String == "mbconv" && $0["se_ratio"] is Double })
        for key in ["stage", "expand_ratio", "kernel", "stride", "in_channels", "out_channels"] {
            #expect(blocks[0][key] != nil, "block missing \(key)")
        }
        #expect((json["macs"] as? Int ?? 0) > 0)
    }

    @Test func inspectTextPrintsTheStageTable() throws {
        let r = try EffnetProcess.run([
            "inspect", EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/dynamo.onnx"),
        ])
        #expect(r.status == 0)
        #expect(r.stdout.contains("Stage | Operator"))
        #expect(r.stdout.contains("MBConv6, k3x3, SE0.25"))
    }

    @Test func runClassifiesImages() throws {
        let r = try EffnetProcess.run([
            "run", EffnetProcess.fixture("images/grace_hopper.jpg"), EffnetProcess.fixture("images/chelsea.png"),
            "-m", EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/torchscript.onnx"), "--preset", "timm",
            "--top", "3", "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let results = try #require(r.json?["results"] as? [[String: Any]])
        #expect(results.count == 2)
        for result in results {
            let top = try #require(result["top"] as? [[String: Any]])
            #expect(top.count == 3)
            let p = top.compactMap { $0["probability"] as? Double }
            #expect(p == p.sorted(by: >) && p.reduce(0, +) <= 1 + 1e-9 && p[0] > 0)
            #expect(top.allSatisfy { $0.keys.contains("label") && $0["index"] is Int })
        }
    }

    /// The photo the fixture's io.npz holds, preprocessed by effnet instead of timm, gives the framework's top-1.
    @Test func runMatchesTheFrameworkTopClass() throws {
        let meta =
            try JSONSerialization.jsonObject(
                with: Data(
                    contentsOf: URL(
                        fileURLWithPath:
                            EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/meta.json")))) as! [String: Any]
        let expected = try #require((meta["output"] as? [String: Any])?["top1_index"] as? [Int])
        let r = try EffnetProcess.run([
            "run", EffnetProcess.fixture("images/grace_hopper.jpg"),
            "-m", EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/checkpoint.npz"), "--arch",
            "tf_efficientnetv2_b0",
            "--size", "100", "--preset", "timm", "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let top = try #require(((r.json?["results"] as? [[String: Any]])?.first?["top"] as? [[String: Any]])?.first)
        #expect(top["index"] as? Int == expected[0])
    }

    @Test func benchJSONHasTheDesignFields() throws {
        let r = try EffnetProcess.run([
            "bench", EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/torchscript.onnx"), "--threads", "1",
            "--warmup", "1", "--iterations", "3", "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(r.json)
        for key in ["model", "threads", "iterations", "median_ms", "p90_ms", "min_ms", "peak_rss_mb"] {
            #expect(json.keys.contains(key), "missing \(key)")
        }
        #expect((json["median_ms"] as? Double ?? 0) > 0 && (json["peak_rss_mb"] as? Double ?? 0) > 0)
        #expect(["avx512", "avx2", "neon", "scalar"].contains(json["kernel_family"] as? String ?? ""))
        #expect((json["microkernel_gflops"] as? Double ?? 0) > 0)
        #expect(!(json["cpu"] as? String ?? "").isEmpty)
    }

    /// `bench --profile --json`: one entry per plan step, numbered from 1, each with its op, node name, output shape
    /// and time, their sum, and per-op totals that account for every step; without `--profile` there is no profile.
    @Test func benchProfileJSONListsEveryStep() throws {
        let model = EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/torchscript.onnx")
        let args = ["bench", model, "--threads", "1", "--warmup", "0", "--iterations", "2", "--json"]
        let r = try EffnetProcess.run(args + ["--profile"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(r.json)
        #expect((json["cpu_min_ms"] as? Double ?? 0) > 0 && (json["cpu_median_ms"] as? Double ?? 0) > 0)
        let profile = try #require(json["profile"] as? [String: Any])
        #expect(profile["runs"] as? Int == 2)
        let steps = try #require(profile["steps"] as? [[String: Any]])
        #expect(steps.map { $0["index"] as? Int } == Array(1...steps.count))
        for step in steps {
            #expect(!(step["label"] as? String ?? "").isEmpty && !(step["op"] as? String ?? "").isEmpty)
            #expect((step["shape"] as? [Int])?.isEmpty == false)
            #expect((step["ms"] as? Double ?? -1) >= 0)
        }
        // The fixture: NCHW input converted once, 2×3×… blocks fused, classifier Gemm to 40 logits last.
        #expect(steps.first?["op"] as? String == "Layout" && steps.first?["label"] as? String == "layout(input)")
        #expect(steps.first?["shape"] as? [Int] == [1, 3, 100, 100])
        #expect(steps.last?["op"] as? String == "Gemm" && steps.last?["shape"] as? [Int] == [1, 40])
        let ops = try #require(profile["ops"] as? [[String: Any]])
        let counted = Dictionary(grouping: steps, by: { $0["op"] as! String }).mapValues(\.count)
        #expect(Dictionary(uniqueKeysWithValues: ops.map { ($0["op"] as! String, $0["steps"] as! Int) }) == counted)
        #expect(counted["MBConv"] ?? 0 > 0 && counted["FusedMBConv"] ?? 0 > 0)
        let opMs = ops.map { $0["ms"] as! Double }
        #expect(opMs == opMs.sorted(by: >))
        let sum = steps.reduce(0) { $0 + ($1["ms"] as! Double) }
        #expect(abs(sum - (profile["sum_ms"] as? Double ?? -1)) <= 1e-3 * Double(steps.count))

        let plain = try EffnetProcess.run(args)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.json?["profile"] == nil)
    }

    /// The text form: a header, one line per step (index, ms, share, op, output shape, name), then per-op totals.
    @Test func benchProfileTextHasOneLinePerStep() throws {
        let model = EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/torchscript.onnx")
        let r = try EffnetProcess.run(["bench", model, "--threads", "1", "--warmup", "0", "--iterations", "1", "--profile"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("profile: each step's minimum over 1 runs, sum ") })
        #expect(lines[start + 1].split(separator: " ") == ["step", "ms", "share", "op", "output", "name"])
        let byOp = try #require(lines.firstIndex(of: "by op:"))
        let stepLines = lines[(start + 2)..<byOp]
        #expect(stepLines.count > 10)
        for (i, line) in stepLines.enumerated() {
            let f = line.split(separator: " ")
            #expect(f.count == 6, "\(line)")
            #expect(Int(f[0]) == i + 1 && Double(f[1]) != nil && f[2].hasSuffix("%"), "\(line)")
        }
        #expect(stepLines.first?.split(separator: " ").suffix(3) == ["Layout", "1x3x100x100", "layout(input)"])
        #expect(stepLines.last?.split(separator: " ")[3...4] == ["Gemm", "1x40"])
        let totals = lines[(byOp + 1)...]
        #expect(!totals.isEmpty && totals.allSatisfy { $0.hasSuffix(" steps") || $0.hasSuffix(" step") })
        let stepsCounted = totals.compactMap { Int($0.split(separator: " ").dropLast().last ?? "") }.reduce(0, +)
        #expect(stepsCounted == stepLines.count)
    }

    /// `EFFNET_ISA` forces the kernel family (scalar runs everywhere); a family the CPU lacks, or an unknown name,
    /// is one line on stderr and exit 2.
    @Test func effnetISASelectsOrRejects() throws {
        let model = EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/torchscript.onnx")
        let args = ["bench", model, "--threads", "1", "--warmup", "0", "--iterations", "1", "--json"]
        let forced = try EffnetProcess.run(args, environment: ["EFFNET_ISA": "scalar"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.json?["kernel_family"] as? String == "scalar")
        let unknown = try EffnetProcess.run(args, environment: ["EFFNET_ISA": "sse9"])
        #expect(unknown.status == 2)
        #expect(unknown.stdout.isEmpty)
        #expect(unknown.stderr.hasPrefix("effnet: EFFNET_ISA=sse9: unknown kernel family"))
        #expect(unknown.stderr.split(separator: "\n").count == 1)
        #if arch(x86_64)
            let neon = try EffnetProcess.run(args, environment: ["EFFNET_ISA": "neon"])
            #expect(neon.status == 2)
            #expect(neon.stderr.contains("does not support neon"))
        #endif
    }
}
