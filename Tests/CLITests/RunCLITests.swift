import Formats
import Foundation
import IR
import Testing

/// `run` for real work: class names, folders and lists, failures, output formats, bounds, sharding.
@Suite struct RunCLITests {
    static let model = EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/torchscript.onnx")
    static let photos = ["images/grace_hopper.jpg", "images/chelsea.png", "images/hopper_tall.jpg"].map(
        EffnetProcess.fixture)

    /// A folder with the photos (one in a subfolder), a truncated JPEG, a text file and an empty directory.
    static func messyFolder() throws -> (dir: URL, good: [String], corrupt: String) {
        let dir = try EffnetProcess.scratch()
        let sub = dir.appendingPathComponent("sub/deeper")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("empty-dir"), withIntermediateDirectories: true)
        let a = dir.appendingPathComponent("a.jpg").path
        let b = dir.appendingPathComponent("b.png").path
        let c = sub.appendingPathComponent("c.jpg").path
        try FileManager.default.copyItem(atPath: photos[0], toPath: a)
        try FileManager.default.copyItem(atPath: photos[1], toPath: b)
        try FileManager.default.copyItem(atPath: photos[2], toPath: c)
        let corrupt = dir.appendingPathComponent("broken.jpg").path
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: photos[0]))
        try jpeg.prefix(2000).write(to: URL(fileURLWithPath: corrupt))
        try Data("not an image\n".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        return (dir, [a, b, c], corrupt)
    }

    static func run(_ arguments: [String]) throws -> EffnetProcess.Result {
        try EffnetProcess.run(["run"] + arguments + ["-m", model, "--preset", "timm"])
    }

    @Test func folderWithBadFilesFinishesEveryGoodImage() throws {
        let (dir, good, corrupt) = try Self.messyFolder()
        let r = try Self.run([dir.path, "--format", "jsonl", "--top", "1"])
        #expect(r.status == 2)
        let images = r.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["image"] as? String
        }
        // Sorted by path; the text file and the directory are not images and are skipped; the corrupt JPEG fails.
        #expect(images == [dir.path + "/a.jpg", dir.path + "/b.png", dir.path + "/sub/deeper/c.jpg"])
        #expect(Set(images) == Set(good))
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(r.stderr)")
        #expect(lines.first?.hasPrefix("effnet: \(corrupt): truncated JPEG") == true, "\(r.stderr)")
        #expect(lines.last?.hasPrefix("effnet: 3 images classified, 1 failed, ") == true, "\(r.stderr)")
    }

    @Test func missingFileIsReportedAndTheRestRun() throws {
        let r = try Self.run([Self.photos[0], "/no/such.jpg", Self.photos[1], "--top", "1"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("effnet: /no/such.jpg: cannot read image file: no such file\n"))
        #expect(
            r.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") } == [
                Substring(Self.photos[0]), Substring(Self.photos[1]),
            ])
    }

    @Test func filesFromListsFilesAndFolders() throws {
        let (dir, good, _) = try Self.messyFolder()
        let list = dir.appendingPathComponent("list.txt")
        try Data("\(good[2])\n\n\(Self.photos[0])\n".utf8).write(to: list)
        let r = try Self.run(["--files-from", list.path, "--format", "jsonl"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").count == 2)
        #expect(r.stdout.hasPrefix("{\"image\":\"\(good[2])\""))
    }

    /// Every format carries the same top-5 as the text output, in input order.
    @Test func allFourFormatsAgree() throws {
        let args = Self.photos + ["--top", "5"]
        let text = try Self.run(args)
        #expect(text.status == 0, "\(text.stderr)")
        var expected = [(String, [Int])]()
        for line in text.stdout.split(separator: "\n") {
            if line.hasPrefix(" ") {
                expected[expected.count - 1].1.append(Int(line.split(separator: " ")[0])!)
            } else {
                expected.append((String(line), []))
            }
        }
        #expect(expected.map(\.0) == Self.photos && expected.allSatisfy { $0.1.count == 5 })

        let json = try Self.run(args + ["--format", "json"])
        let results = try #require(json.json?["results"] as? [[String: Any]])
        #expect(results.map { $0["image"] as? String } == expected.map(\.0))
        #expect(
            results.map { ($0["top"] as? [[String: Any]] ?? []).compactMap { $0["index"] as? Int } }
                == expected.map(\.1))
        #expect(try Self.run(args + ["--json"]).stdout == json.stdout)

        let jsonl = try Self.run(args + ["--format", "jsonl"])
        let rows = jsonl.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(rows.count == 3)
        #expect(
            rows.map { ($0["top"] as? [[String: Any]] ?? []).compactMap { $0["index"] as? Int } } == expected.map(\.1))

        let csv = try Self.run(args + ["--format", "csv"])
        let lines = csv.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "image,rank,index,label,probability")
        #expect(lines.count == 1 + 15)
        for (k, (image, indices)) in expected.enumerated() {
            for (rank, index) in indices.enumerated() {
                let fields = lines[1 + 5 * k + rank].split(separator: ",", omittingEmptySubsequences: false)
                #expect(fields[0] == image && fields[1] == "\(rank + 1)" && fields[2] == "\(index)")
            }
        }
    }

    @Test func outputFileIsWrittenWholeOrNotAtAll() throws {
        let dir = try EffnetProcess.scratch()
        let out = dir.appendingPathComponent("results.jsonl").path
        let r = try Self.run([Self.photos[0], "--format", "jsonl", "--output", out])
        #expect(r.status == 0 && r.stdout.isEmpty, "\(r.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("{\"image\":\"\(Self.photos[0])\""))
        // A model that cannot be read: exit 2 and nothing at the output path, not even a temporary file.
        let none = dir.appendingPathComponent("none.csv").path
        let bad = try EffnetProcess.run([
            "run", Self.photos[0], "-m", EffnetProcess.fixture("bad/truncated.onnx"), "--format", "csv", "-o", none,
        ])
        #expect(bad.status == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["results.jsonl"])
    }

    /// Absurd flags are refused before anything is allocated, each with its message.
    @Test(arguments: [
        (["--crop-pct", "0"], "Error: --crop-pct must be in (0, 1]"),
        (["--size", "100000"], "Error: --size must be between 1 and 2048: 100000"),
        (["--threads", "10000"], "Error: --threads must be between 1 and 256"),
        (["--batch", "0"], "Error: --batch must be between 1 and 256: 0"),
        (["--max-pixels", "1000000000000"], "Error: --max-pixels must be between 1 and 178956970: 1000000000000"),
        (["--top", "0"], "Error: --top must be between 1 and 1000: 0"),
        (["--shard", "2/2"], "Error: --shard must be K/N with 0 <= K < N: '2/2'"),
        (["--shard", "x"], "Error: --shard must be K/N with 0 <= K < N: 'x'"),
    ])
    func absurdFlagsAreRefused(_ flags: [String], _ message: String) throws {
        let r = try Self.run([Self.photos[0]] + flags)
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix(message + "\n"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func imageOverThePixelBudgetIsRefusedFromItsHeader() throws {
        let r = try Self.run([Self.photos[0], Self.photos[1], "--max-pixels", "200000", "--top", "1"])
        #expect(r.status == 2)
        // grace_hopper.jpg is 512x600 = 307,200 pixels; chelsea.png 451x300 = 135,300.
        #expect(
            r.stderr.hasPrefix(
                "effnet: \(Self.photos[0]): unsupported image: 512x600 is more than --max-pixels 200000\n"),
            "\(r.stderr)")
        #expect(r.stdout.hasPrefix(Self.photos[1] + "\n"))
    }

    @Test func shardsPartitionTheSortedList() throws {
        let (dir, good, _) = try Self.messyFolder()
        var seen = [String]()
        for k in 0..<2 {
            let r = try Self.run([dir.path, "--shard", "\(k)/2", "--format", "jsonl", "--top", "1"])
            seen += r.stdout.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["image"] as? String
            }
        }
        // Sorted inputs: a.jpg, b.png, broken.jpg, sub/deeper/c.jpg → shard 0 takes a, broken; shard 1 b, c.
        #expect(seen == [good[0], good[1], good[2]])
    }

    /// Labels files in each supported form name the classes; a count that does not match the model is refused.
    @Test func labelsFilesInEveryForm() throws {
        let dir = try EffnetProcess.scratch()
        let names = (0..<40).map { "class number \($0)" }
        let forms: [(String, String)] = [
            ("labels.txt", names.joined(separator: "\n") + "\n"),
            ("list.json", String(decoding: try JSONSerialization.data(withJSONObject: names), as: UTF8.self)),
            (
                "keras.json",
                String(
                    decoding: try JSONSerialization.data(
                        withJSONObject: Dictionary(
                            uniqueKeysWithValues: names.enumerated().map {
                                ("\($0.offset)", ["n\($0.offset)", $0.element])
                            })), as: UTF8.self)
            ),
            (
                "zoo.json",
                String(
                    decoding: try JSONSerialization.data(
                        withJSONObject: Dictionary(
                            uniqueKeysWithValues: names.enumerated().map {
                                ("\($0.offset)", $0.element)
                            })), as: UTF8.self)
            ),
        ]
        for (file, content) in forms {
            let path = dir.appendingPathComponent(file).path
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            let r = try Self.run([Self.photos[0], "--labels", path, "--json"])
            #expect(r.status == 0, "\(file): \(r.stderr)")
            let top = try #require((r.json?["results"] as? [[String: Any]])?.first?["top"] as? [[String: Any]])
            for c in top {
                #expect(c["label"] as? String == "class number \(c["index"] as! Int)", "\(file)")
            }
        }
        let short = dir.appendingPathComponent("short.txt").path
        try Data(names.dropLast().joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: short))
        let r = try Self.run([Self.photos[0], "--labels", short])
        #expect(r.status == 2)
        #expect(r.stderr == "effnet: \(short): 39 labels for a model with 40 classes\n")
        #expect(r.stdout.isEmpty)
    }

    /// A model with 1000 outputs gets the bundled ImageNet-1k names; with 1001, "background" comes first.
    @Test(arguments: [(1000, 0, "tench"), (1000, 999, "toilet paper"), (1001, 0, "background"), (1001, 1, "tench")])
    func bundledImageNetNames(_ classes: Int, _ winner: Int, _ name: String) throws {
        let dir = try EffnetProcess.scratch()
        let path = dir.appendingPathComponent("m\(classes).onnx").path
        var bias = [Float](repeating: 0, count: classes)
        bias[winner] = 20
        let graph = Graph(
            nodes: [
                Node(name: "pool", opType: "GlobalAveragePool", inputs: ["x"], outputs: ["p"]),
                Node(name: "flat", opType: "Flatten", inputs: ["p"], outputs: ["f"], attributes: ["axis": .int(1)]),
                Node(
                    name: "fc", opType: "Gemm", inputs: ["f", "w", "b"], outputs: ["y"],
                    attributes: ["transB": .int(1)]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [.symbol("batch"), 3, 16, 16])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: [.symbol("batch"), .known(classes)])],
            initializers: [
                "w": Tensor(shape: [classes, 3], floats: [Float](repeating: 0, count: classes * 3)),
                "b": Tensor(shape: [classes], floats: bias),
            ])
        try ONNXWriter.write(Model(graph: graph), to: path)
        let r = try EffnetProcess.run(["run", Self.photos[0], "-m", path, "--top", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let top = try #require((r.json?["results"] as? [[String: Any]])?.first?["top"] as? [[String: Any]])
        #expect(top.first?["index"] as? Int == winner)
        #expect(top.first?["label"] as? String == name)
    }
}

/// A timm `config.json` beside the model sets its preprocessing; flags still override it.
@Suite struct RunConfigTests {
    static let checkpoint = EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/checkpoint.npz")

    static func folderWithConfig(_ config: String) throws -> (model: String, config: String) {
        let dir = try EffnetProcess.scratch()
        let model = dir.appendingPathComponent("checkpoint.npz").path
        try FileManager.default.copyItem(atPath: checkpoint, toPath: model)
        let path = dir.appendingPathComponent("config.json").path
        try Data(config.utf8).write(to: URL(fileURLWithPath: path))
        return (model, path)
    }

    @Test func configBesideTheCheckpointSetsPreprocessing() throws {
        let (model, _) = try Self.folderWithConfig(
            """
            {"architecture": "tf_efficientnetv2_b0", "pretrained_cfg": {"input_size": [3, 112, 112], "crop_pct": 0.6,
             "interpolation": "bilinear", "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}}
            """)
        let photo = EffnetProcess.fixture("images/grace_hopper.jpg")
        let configured = try EffnetProcess.run(["run", photo, "-m", model, "--json"])
        #expect(configured.status == 0, "\(configured.stderr)")
        let flagged = try EffnetProcess.run([
            "run", photo, "-m", Self.checkpoint, "--json", "--size", "112", "--crop-pct", "0.6", "--interpolation",
            "bilinear", "--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25",
        ])
        let plain = try EffnetProcess.run(["run", photo, "-m", Self.checkpoint, "--json"])
        #expect(flagged.status == 0 && plain.status == 0)
        #expect(configured.stdout == flagged.stdout)
        #expect(configured.stdout != plain.stdout)
        // A flag wins over the config.
        let overridden = try EffnetProcess.run(["run", photo, "-m", model, "--json", "--crop-pct", "0.875"])
        #expect(overridden.stdout != configured.stdout)
    }

    @Test func absurdConfigIsRefused() throws {
        let (model, config) = try Self.folderWithConfig(#"{"pretrained_cfg": {"crop_pct": 1e-6}}"#)
        let r = try EffnetProcess.run(["run", EffnetProcess.fixture("images/grace_hopper.jpg"), "-m", model])
        #expect(r.status == 2)
        #expect(
            r.stderr.hasPrefix("effnet: \(config): crop_pct ") && r.stderr.hasSuffix(" is outside 0.05…1\n"),
            "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}

/// An ONNX file `convert` made from a checkpoint runs with the checkpoint's preprocessing (recorded in its metadata).
@Suite struct RunConvertedMetadataTests {
    @Test func convertedCheckpointRunsAsTheCheckpoint() throws {
        let checkpoint = EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/checkpoint.npz")
        let onnx = try EffnetProcess.scratch().appendingPathComponent("b0.onnx").path
        #expect(try EffnetProcess.run(["convert", checkpoint, "-o", onnx]).status == 0)
        let photo = EffnetProcess.fixture("images/grace_hopper.jpg")
        func top(_ arguments: [String]) throws -> [(Int, Double)] {
            let r = try EffnetProcess.run(["run", photo, "--json"] + arguments)
            #expect(r.status == 0, "\(r.stderr)")
            let top = (r.json?["results"] as? [[String: Any]])?.first?["top"] as? [[String: Any]] ?? []
            return top.map { ($0["index"] as? Int ?? -1, $0["probability"] as? Double ?? -1) }
        }
        let fromCheckpoint = try top(["-m", checkpoint])
        let fromONNX = try top(["-m", onnx])
        #expect(fromCheckpoint.count == 5)
        #expect(fromONNX.map(\.0) == fromCheckpoint.map(\.0))
        #expect(zip(fromONNX, fromCheckpoint).allSatisfy { abs($0.1 - $1.1) < 1e-5 }, "\(fromONNX) \(fromCheckpoint)")
        // Without the recorded preprocessing (torchvision's preset, the default for other ONNX files) it differs.
        let asTorchvision = try top(["-m", onnx, "--preset", "torchvision"])
        #expect(zip(asTorchvision, fromCheckpoint).contains { abs($0.1 - $1.1) > 1e-4 })
    }
}

/// `run --exif-transpose`: fixtures/exif (tools/make_exif_fixtures.py) holds a photo with EXIF orientation 6 and
/// PIL's `exif_transpose` of it saved without EXIF.
@Suite struct RunEXIFTransposeTests {
    static let rotated = EffnetProcess.fixture("exif/orient6.jpg")
    static let upright = EffnetProcess.fixture("exif/orient6_upright.png")
    static let plain = EffnetProcess.fixture("exif/plain.jpg")

    /// The CSV rows without the image column: `rank,index,label,probability`.
    static func classes(_ arguments: [String]) throws -> [String] {
        let r = try RunCLITests.run(arguments + ["--format", "csv", "--top", "5"])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").dropFirst().map { line in
            line.split(separator: ",", omittingEmptySubsequences: false).dropFirst().joined(separator: ",")
        }
    }

    @Test func transposeMatchesTheUprightPhoto() throws {
        let transposed = try Self.classes([Self.rotated, "--exif-transpose"])
        #expect(transposed.count == 5)
        #expect(transposed == (try Self.classes([Self.upright])))
        // An upright photo is unchanged by the flag.
        #expect(try Self.classes([Self.upright, "--exif-transpose"]) == transposed)
    }

    @Test func orientationIsIgnoredWithoutTheFlag() throws {
        let ignored = try Self.classes([Self.rotated])
        #expect(ignored == (try Self.classes([Self.plain])))
        #expect(ignored != (try Self.classes([Self.upright])))
    }
}
