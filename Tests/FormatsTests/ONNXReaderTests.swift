import Foundation
import IR
import Testing

@testable import Formats

@Suite struct ONNXReaderTests {
    /// Every dtype, in raw_data and in the typed fields, must decode to exactly the bytes numpy wrote.
    @Test(arguments: ["dtypes_raw.onnx", "dtypes_typed.onnx"])
    func dtypesMatchNumpyBytes(file: String) throws {
        let model = try ONNXReader.read(contentsOf: ONNXFixtures.path(file))
        let names = model.graph.initializers.keys.sorted()
        #expect(names.count == 12)
        for name in names {
            let expected = try #require(ONNXFixtures.expected[name], "no expectation for \(name)")
            #expect(model.graph.initializers[name] == expected, "\(file): \(name)")
        }
        #expect(model.graph.initializers["t_scalar"]?.shape == [])
        #expect(model.graph.initializers["t_empty"]?.shape == [0, 3])
        #expect(model.graph.outputs.first { $0.name == "t_bfloat16_out" }?.dtype == .bfloat16)
        #expect(model.graph.inputs.isEmpty)
    }

    @Test func constantsAreNormalizedToValue() throws {
        let model = try ONNXReader.read(contentsOf: ONNXFixtures.path("constants.onnx"))
        #expect(model.graph.nodes.count == 5)
        for node in model.graph.nodes {
            #expect(node.opType == "Constant")
            #expect(Array(node.attributes.keys) == ["value"], "\(node.name)")
            #expect(node.tensor("value") == ONNXFixtures.expected[node.outputs[0]], "\(node.name)")
        }
    }

    @Test func everyAttributeKind() throws {
        let path = ONNXFixtures.path("attributes.onnx")
        let model = try ONNXReader.read(contentsOf: path, checkOperators: false)
        let node = try #require(model.graph.nodes.first)
        #expect(node.domain == "test.attrs")
        #expect(node.int("an_int") == -3)
        #expect(node.ints("some_ints") == [1, 2, 3])
        #expect(node.float("a_float") == Float(0.1))
        #expect(node.floats("some_floats") == [1.5, -2.5])
        #expect(node.string("a_string") == "same_upper")
        #expect(node.attributes["some_strings"] == .strings(["a", "ünïcode"]))
        #expect(node.tensor("a_tensor") == ONNXFixtures.expected["attr_tensor"])
        let body = try #require(node.graph("a_graph"))
        #expect(body.name == "body")
        #expect(body.initializers["scale"] == ONNXFixtures.expected["scale"])
        #expect(body.inputs.map(\.name) == ["x"])
        #expect(body.inputs.first?.shape == [.symbol("N"), .known(2)])
        let inner = try #require(body.nodes.last?.graph("inner"))
        #expect(inner.nodes.map(\.opType) == ["Relu"])

        // With the operator check on, the unknown ops are listed, including the one inside the sub-graph.
        #expect(
            onnxReadError(path)
                == .invalidGraph(
                    file: path,
                    error: .unsupportedOps([
                        .init(opType: "Everything", domain: "test.attrs", node: "everything"),
                        .init(opType: "Wrap", domain: "test.attrs", node: "body_wrap"),
                    ])))
    }

    @Test func initializerListedAsInputIsNotARuntimeInput() throws {
        let model = try ONNXReader.read(contentsOf: ONNXFixtures.path("initializer_input.onnx"))
        #expect(model.graph.inputs == [ValueInfo(name: "X", dtype: .float32, shape: [4, 2])])
        #expect(model.graph.initializers["W"] == ONNXFixtures.expected["W"])
        #expect(model.irVersion == 3)
        #expect(model.opset == 9)
    }

    @Test func shapesValueInfoAndModelFields() throws {
        let model = try ONNXReader.read(contentsOf: ONNXFixtures.path("shapes.onnx"))
        let graph = model.graph
        #expect(graph.name == "shapes")
        #expect(graph.inputs == [ValueInfo(name: "X", dtype: .float32, shape: [.symbol("N"), 3, .unknown, 4])])
        #expect(graph.outputs == [ValueInfo(name: "Y", dtype: .float32, shape: [.symbol("N"), 3, .symbol("H"), 4])])
        #expect(graph.valueInfo == ["r": ValueInfo(name: "r", dtype: .float32, shape: [.symbol("N"), 3, 5, 4])])
        #expect(model.opsets == ["": 17, "com.example": 2])
        #expect(model.producerName == "fixture-maker")
        #expect(model.producerVersion == "1.2.3")
        #expect(model.domain == "org.effnet.test")
        #expect(model.modelVersion == 7)
        #expect(model.docString == "shapes fixture")
        #expect(model.metadata == ["author": "effnet tests", "license": "MIT"])
        #expect(model.irVersion >= 8)
    }

    @Test func unknownOperatorsAreListedInOneError() throws {
        let path = ONNXFixtures.path("unknown_ops.onnx")
        let error = try #require(onnxReadError(path))
        #expect(
            error
                == .invalidGraph(
                    file: path,
                    error: .unsupportedOps([
                        .init(opType: "FancyOp", domain: "", node: "fancy_1"),
                        .init(opType: "Mystery", domain: "com.example", node: "mystery_1"),
                    ])))
        #expect(
            error.description
                == "\(path): unsupported operators: FancyOp (node 'fancy_1'), com.example.Mystery (node 'mystery_1')")
        // Without the operator check the graph itself is fine.
        #expect(onnxReadError(path, checkOperators: false) == nil)
    }

    @Test func invalidGraphNamesTheFile() {
        let path = ONNXFixtures.path("missing_input.onnx")
        #expect(
            onnxReadError(path) == .invalidGraph(file: path, error: .missingInput("nowhere", node: "reads_nothing")))
        #expect(
            onnxReadError(path)?.description == "\(path): node 'reads_nothing' reads 'nowhere', which nothing produces")
    }

    @Test func badTensorsAreRefusedWithTheirNames() {
        let cases: [(String, String)] = [
            (
                "bad_string_tensor.onnx",
                "tensor 'names': element type STRING is not supported (effnet reads float32, float16, bfloat16, "
                    + "float64, int8, int16, int32, int64, uint8, bool)"
            ),
            (
                "bad_uint16_tensor.onnx",
                "tensor 'u16': element type UINT16 is not supported (effnet reads float32, float16, bfloat16, "
                    + "float64, int8, int16, int32, int64, uint8, bool)"
            ),
            ("bad_raw_length.onnx", "tensor 'short': float32[2, 3] needs 24 bytes, raw_data holds 20"),
            ("bad_typed_count.onnx", "tensor 'few': float32[4] needs 4 values in float_data, found 3"),
        ]
        for (file, message) in cases {
            let path = ONNXFixtures.path(file)
            #expect(onnxReadError(path)?.description == "\(path): \(message)")
        }
    }

    @Test func notAModel() throws {
        let empty = ONNXFixtures.path("empty.onnx")
        #expect(onnxReadError(empty) == .emptyFile(file: empty))
        #expect(onnxReadError(empty)?.description == "\(empty): the file is empty, not an ONNX model")

        let lfs = ONNXFixtures.path("lfs_pointer.onnx")
        #expect(onnxReadError(lfs)?.description == "\(lfs): is a Git LFS pointer, not the model; run `git lfs pull`")

        let text = ONNXFixtures.path("text.onnx")
        #expect(
            onnxReadError(text)?.description
                == "\(text): not an ONNX model (a text file starting 'model: efficientnet_v2_s')")

        // Short texts, some of which protobuf-c happens to accept as unknown fields, are still called text.
        for text in ["hello", "x = 1", "{\"a\": 1}", "P", "(8:", "ir_version: 8\ngraph {"] {
            let line = String(text.prefix { $0 != "\n" })
            #expect(throws: ONNXReadError.notONNX(file: "t.onnx", reason: "a text file starting '\(line)'")) {
                _ = try ONNXReader.read(bytes: Array(text.utf8), file: "t.onnx", folder: ".")
            }
        }
        let noGraph = ONNXFixtures.path("no_graph.onnx")
        #expect(
            onnxReadError(noGraph)?.description
                == "\(noGraph): not an ONNX model (it parses as protobuf but holds no graph)")

        let missing = ONNXFixtures.path("does-not-exist.onnx")
        #expect(onnxReadError(missing)?.description == "\(missing): cannot open: no such file")
        #expect(onnxReadError(ONNXFixtures.root)?.description == "\(ONNXFixtures.root): cannot open: is a directory")

        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let zip = try folder.write([0x50, 0x4b, 0x03, 0x04] + [UInt8](repeating: 0, count: 26), to: "model.onnx")
        #expect(onnxReadError(zip)?.description == "\(zip): is a ZIP archive (an .npz checkpoint?), not an ONNX model")

        // Non-text garbage protobuf-c cannot unpack: a truncated valid model (cut inside a tensor).
        let valid = try fileBytes(ONNXFixtures.path("dtypes_raw.onnx"))
        let truncated = try folder.write(Array(valid.prefix(valid.count - 7)), to: "truncated.onnx")
        #expect(
            onnxReadError(truncated)?.description
                == "\(truncated): not an ONNX model (protobuf parse failed: truncated or corrupt)")
    }

    @Test func externalDataGood() throws {
        let model = try ONNXReader.read(contentsOf: ONNXFixtures.path("external/good/model.onnx"))
        #expect(model.graph.initializers["ext_weight"] == ONNXFixtures.expected["ext_weight"])
        #expect(model.graph.initializers["ext_bias"] == ONNXFixtures.expected["ext_bias"])
    }

    @Test func externalDataRefusesUnsafeOrBrokenLocations() {
        let cases: [(String, String)] = [
            ("absolute", "location '/tmp/outside.bin' is an absolute path; it must be relative to the model's folder"),
            ("dotdot", "location '../outside.bin' escapes the model's folder"),
            ("dotdot_nested", "location 'sub/../../outside.bin' escapes the model's folder"),
            ("past_end", "offset 4096 is past the end of 'model.onnx.data' (48 bytes)"),
            ("past_end_length", "offset 16 + length 48 is past the end of 'model.onnx.data' (48 bytes)"),
            ("missing", "data file 'nothere.bin' not found beside the model"),
        ]
        for (folder, problem) in cases {
            let path = ONNXFixtures.path("external/\(folder)/model.onnx")
            #expect(onnxReadError(path) == .externalData(file: path, tensor: "ext_weight", problem: problem))
            #expect(onnxReadError(path)?.description == "\(path): tensor 'ext_weight': external data: \(problem)")
        }
        let symlink = ONNXFixtures.path("external/symlink/model.onnx")
        let message = onnxReadError(symlink)?.description ?? ""
        #expect(message.hasPrefix("\(symlink): tensor 'ext_weight': external data: location 'link.bin' resolves to '"))
        #expect(message.hasSuffix("/external/outside.bin', outside the model's folder (a symbolic link?)"))
    }

    @Test func detectsFileKindByContent() throws {
        #expect(try ModelFileKind.detect(path: ONNXFixtures.path("dtypes_raw.onnx")) == .onnx)
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let npz = try folder.write([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0], to: "weights.onnx")
        #expect(try ModelFileKind.detect(path: npz) == .npz)
        let emptyZip = try folder.write([0x50, 0x4b, 0x05, 0x06] + [UInt8](repeating: 0, count: 18), to: "e.npz")
        #expect(try ModelFileKind.detect(path: emptyZip) == .npz)

        let lfs = ONNXFixtures.path("lfs_pointer.onnx")
        #expect(throws: ModelFileError.gitLFSPointer(path: lfs)) { try ModelFileKind.detect(path: lfs) }
        #expect(
            ModelFileError.gitLFSPointer(path: lfs).description
                == "\(lfs): is a Git LFS pointer, not the model; run `git lfs pull`")
        let empty = ONNXFixtures.path("empty.onnx")
        #expect(throws: ModelFileError.empty(path: empty)) { try ModelFileKind.detect(path: empty) }
        let missing = folder.file("nope.onnx")
        #expect(throws: ModelFileError.cannotOpen(path: missing, reason: "no such file")) {
            try ModelFileKind.detect(path: missing)
        }
    }
}
