import Foundation
import IR
import Testing

@testable import Runtime

/// The interpreter's contract beyond single ops: feed checking, intermediate values, fused bodies, dynamic
/// batch, and its convolution against a direct seven-loop definition at awkward sizes.
@Suite struct ReferenceInterpreterTests {
    /// x[N,3,H,W] → Conv(4, 3×3, pad 1) → Relu → GlobalAveragePool → Flatten → Gemm(5) → Softmax.
    static func classifier(batch: Dim = .symbol("N")) -> Graph {
        var rng = SplitMix64(seed: 3)
        func random(_ shape: [Int]) -> Tensor {
            Tensor(
                shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 })
        }
        return Graph(
            nodes: [
                Node(
                    name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"],
                    attributes: ["pads": .ints([1, 1, 1, 1])]),
                Node(name: "relu", opType: "Relu", inputs: ["c"], outputs: ["r"]),
                Node(name: "pool", opType: "GlobalAveragePool", inputs: ["r"], outputs: ["p"]),
                Node(name: "flat", opType: "Flatten", inputs: ["p"], outputs: ["f"]),
                Node(
                    name: "fc", opType: "Gemm", inputs: ["f", "fw", "fb"], outputs: ["l"],
                    attributes: ["transB": .int(1)]),
                Node(name: "softmax", opType: "Softmax", inputs: ["l"], outputs: ["y"], attributes: ["axis": .int(1)]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [batch, 3, .symbol("H"), .symbol("H")])],
            outputs: [ValueInfo(name: "y", dtype: nil, shape: nil)],
            initializers: ["w": random([4, 3, 3, 3]), "b": random([4]), "fw": random([5, 4]), "fb": random([5])])
    }

    static func input(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor(
            shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 500 })
    }

    @Test func feedsAreCheckedAgainstTheDeclaration() throws {
        let interpreter = try ReferenceInterpreter(graph: Self.classifier(), opset: 13)
        let good = Self.input([2, 3, 5, 5])
        #expect(try interpreter.run(["x": good])["y"]?.shape == [2, 5])
        #expect(throws: RuntimeError.missingInput("x", expected: ["x"])) { try interpreter.run([:]) }
        #expect(throws: RuntimeError.unknownInput("image", expected: ["x"])) {
            try interpreter.run(["x": good, "image": good])
        }
        let cases: [(Tensor, String)] = [
            (Tensor.zeros(.float64, shape: [2, 3, 5, 5]), "dtype"),
            (Self.input([3, 5, 5]), "rank"),
            (Self.input([2, 4, 5, 5]), "channels"),
            (Self.input([2, 3, 5, 6]), "H bound twice"),
        ]
        for (t, what) in cases {
            #expect(throws: RuntimeError.self, "\(what)") { try interpreter.run(["x": t]) }
            do {
                _ = try interpreter.run(["x": t])
            } catch let error as RuntimeError {
                guard case .badInput(let name, _) = error else {
                    Issue.record("\(what): \(error)")
                    continue
                }
                #expect(name == "x")
                #expect(error.description.contains("'x'"))
            }
        }
    }

    @Test func batchElementsAreIndependent() throws {
        let interpreter = try ReferenceInterpreter(graph: Self.classifier(), opset: 13)
        let three = Self.input([3, 3, 6, 6])
        let all = try interpreter.run(["x": three])["y"]!
        let stride = 3 * 6 * 6
        for i in 0..<3 {
            let one = Tensor(shape: [1, 3, 6, 6], floats: Array(three.floats[(i * stride)..<((i + 1) * stride)]))
            let y = try interpreter.run(["x": one])["y"]!
            #expect(y.floats == Array(all.floats[(i * 5)..<((i + 1) * 5)]))
        }
    }

    @Test func intermediatesAndObservation() throws {
        let interpreter = try ReferenceInterpreter(graph: Self.classifier(), opset: 13)
        let x = Self.input([1, 3, 4, 4])
        let all = try interpreter.runKeepingIntermediates(["x": x])
        #expect(Set(all.keys).isSuperset(of: ["x", "c", "r", "p", "f", "l", "y"]))
        #expect(all["c"]?.shape == [1, 4, 4, 4])
        #expect(all["r"]?.floats.allSatisfy { $0 >= 0 } == true)
        var seen = [String]()
        let y = try interpreter.run(["x": x]) { node, outputs in
            seen.append(node.name)
            #expect(outputs.count == node.outputs.count)
        }
        #expect(seen == ["conv", "relu", "pool", "flat", "fc", "softmax"])
        #expect(y["y"] == all["y"])
        let sum = y["y"]!.doubles.reduce(0, +)
        #expect(abs(sum - 1) < 1e-6)
    }

    @Test func fusedBodiesExposeTheirValues() throws {
        let c = try OpFixtures.load("MBConv")[0]
        let interpreter = try ReferenceInterpreter(graph: c.graph, opset: c.opset)
        let all = try interpreter.runKeepingIntermediates(c.feeds)
        // The body's values keep the names the unfused graph used.
        for name in ["e", "ea", "d", "da", "m", "g", "se", "p"] { #expect(all[name] != nil, "\(name)") }
        #expect(all[c.expected[0].0] == (try interpreter.run(c.feeds))[c.expected[0].0])
    }

    @Test func badGraphsFailAtInit() {
        var g = Self.classifier()
        g.nodes.append(Node(name: "nms", opType: "NonMaxSuppression", inputs: ["y"], outputs: ["z"]))
        #expect(throws: IRError.self) { try ReferenceInterpreter(graph: g, opset: 13) }
        var h = Self.classifier()
        h.initializers["w"] = Tensor.zeros(.float32, shape: [4, 2, 3, 3])
        #expect(throws: IRError.self) { try ReferenceInterpreter(graph: h, opset: 13) }
    }

    @Test func dataDependentFailuresNameTheNode() throws {
        // Gather with a runtime index: out of range only shows at run time.
        let g = Graph(
            nodes: [Node(name: "pick", opType: "Gather", inputs: ["x", "i"], outputs: ["y"])],
            inputs: [
                ValueInfo(name: "x", dtype: .float32, shape: [3]), ValueInfo(name: "i", dtype: .int64, shape: []),
            ],
            outputs: [ValueInfo(name: "y", dtype: nil, shape: nil)])
        let interpreter = try ReferenceInterpreter(graph: g, opset: 13)
        #expect(
            try interpreter.run(["x": Tensor(shape: [3], floats: [1, 2, 3]), "i": .scalar(Int64(-1))])["y"]?.floats == [
                3
            ])
        #expect(throws: RuntimeError.self) {
            try interpreter.run(["x": Tensor(shape: [3], floats: [1, 2, 3]), "i": .scalar(Int64(3))])
        }
        do {
            _ = try interpreter.run(["x": Tensor(shape: [3], floats: [1, 2, 3]), "i": .scalar(Int64(3))])
        } catch let RuntimeError.nodeFailed(node, message) {
            #expect(node == "pick")
            #expect(message.contains("out of range"))
        }
    }

    /// Sizes around loop boundaries: 0-width rows are impossible for a valid conv, so 1, 3, 15, 16, 17.
    static let sizes = [1, 3, 15, 16, 17]

    /// The row-accumulating convolution equals a direct seven-loop definition, computed here in Double and
    /// rounded to float once, so the two agree to 1 float ulp (|d| ≤ 2^-23·|y|, plus 1e-30 for zeros).
    @Test(arguments: [1, 2, 3]) func convMatchesDirectDefinition(stride: Int) throws {
        var rng = SplitMix64(seed: UInt64(stride))
        for trial in 0..<12 {
            let h = Self.sizes[trial % Self.sizes.count]
            let w = Self.sizes[(trial * 3 + 1) % Self.sizes.count]
            let k = [1, 3, 5][trial % 3]
            let dilation = trial % 4 == 3 ? 2 : 1
            let groups = [1, 2, 4][trial % 3]
            let (cin, cout) = (groups * (1 + trial % 2), groups * (1 + (trial / 2) % 3))
            let pads = (0..<4).map { _ in Int(rng.next() % UInt64(k)) }
            guard h + pads[0] + pads[2] >= (k - 1) * dilation + 1, w + pads[1] + pads[3] >= (k - 1) * dilation + 1
            else { continue }
            let x = Self.input([2, cin, h, w], seed: rng.next())
            let weights = Self.input([cout, cin / groups, k, k], seed: rng.next())
            let bias = Self.input([cout], seed: rng.next())
            let node = Node(
                name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"],
                attributes: [
                    "strides": .ints([stride, stride]), "pads": .ints(pads), "group": .int(groups),
                    "dilations": .ints([dilation, dilation]),
                ])
            let y = try ConvOp.conv(x, weights, bias, node: node, activation: .none)
            let expected = try Self.directConv(x, weights, bias, node: node)
            #expect(y.shape == expected.shape)
            for (a, e) in zip(y.floats, expected.floats) {
                #expect(abs(a - e) <= abs(e) * 0x1p-23 + 1e-30, "trial \(trial) \(x.shape) k\(k) pads \(pads)")
            }
        }
    }

    static func directConv(_ x: Tensor, _ w: Tensor, _ b: Tensor, node: Node) throws -> Tensor {
        let g = try ConvGeometry(node: node, inputShape: x.shape, weightShape: w.shape)
        let (n, c, h, wi) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (m, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let (oh, ow) = (g.outputSize[0], g.outputSize[1])
        let xs = x.doubles
        let ws = w.doubles
        let bs = b.doubles
        var out = [Double]()
        for ni in 0..<n {
            for mo in 0..<m {
                let group = mo / (m / g.group)
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var s = bs[mo]
                        for cl in 0..<cg {
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    let iy = oy * g.strides[0] - g.padsBegin[0] + ky * g.dilations[0]
                                    let ix = ox * g.strides[1] - g.padsBegin[1] + kx * g.dilations[1]
                                    guard iy >= 0, iy < h, ix >= 0, ix < wi else { continue }
                                    let ci = group * cg + cl
                                    s +=
                                        ws[((mo * cg + cl) * kh + ky) * kw + kx]
                                        * xs[((ni * c + ci) * h + iy) * wi + ix]
                                }
                            }
                        }
                        out.append(s)
                    }
                }
            }
        }
        return Tensor(dtype: .float32, shape: [n, m, oh, ow], values: out)
    }
}
