import IR

/// EfficientNetV2 stage tables (timm's `efficientnetv2_s` / `efficientnetv2_b0` at width and depth 1), turned into a
/// graph of effnet's fused ops with random weights: the shape of the real workload without needing a checkpoint.
struct NetworkSpec {
    struct Stage {
        var fused: Bool
        var expand: Int
        var stride: Int
        var out: Int
        var repeats: Int
        var se: Bool
    }

    var stem: Int
    var stages: [Stage]
    var head: Int

    static let v2s = NetworkSpec(
        stem: 24,
        stages: [
            Stage(fused: true, expand: 1, stride: 1, out: 24, repeats: 2, se: false),
            Stage(fused: true, expand: 4, stride: 2, out: 48, repeats: 4, se: false),
            Stage(fused: true, expand: 4, stride: 2, out: 64, repeats: 4, se: false),
            Stage(fused: false, expand: 4, stride: 2, out: 128, repeats: 6, se: true),
            Stage(fused: false, expand: 6, stride: 1, out: 160, repeats: 9, se: true),
            Stage(fused: false, expand: 6, stride: 2, out: 256, repeats: 15, se: true),
        ], head: 1280)

    static let v2b0 = NetworkSpec(
        stem: 32,
        stages: [
            Stage(fused: true, expand: 1, stride: 1, out: 16, repeats: 1, se: false),
            Stage(fused: true, expand: 4, stride: 2, out: 32, repeats: 2, se: false),
            Stage(fused: true, expand: 4, stride: 2, out: 48, repeats: 2, se: false),
            Stage(fused: false, expand: 4, stride: 2, out: 96, repeats: 3, se: true),
            Stage(fused: false, expand: 6, stride: 1, out: 112, repeats: 5, se: true),
            Stage(fused: false, expand: 6, stride: 2, out: 192, repeats: 8, se: true),
        ], head: 1280)

    /// The graph and a function from input size to multiply-accumulates.
    func graph(classes: Int = 1000) -> (Graph, (Int) -> Int) {
        var initializers = [String: Tensor]()
        var nodes = [Node]()
        var counter = 0
        var macTerms = [(Int, Int)]()  // (MACs per output pixel, stride divisor of the output)
        func tensor(_ shape: [Int], fanIn: Int) -> String {
            counter += 1
            let bound = Float(1.0 / Double(fanIn).squareRoot())
            initializers["t\(counter)"] = Tensor(shape: shape, floats: randomFloats(shape.reduce(1, *), scale: bound))
            return "t\(counter)"
        }
        func bias(_ n: Int) -> String { tensor([n], fanIn: 100) }
        func add(_ op: String, _ inputs: [String], _ attrs: [String: Attribute]) -> String {
            counter += 1
            nodes.append(
                Node(
                    name: "\(op)\(counter)", opType: op, domain: "ai.effnet", inputs: inputs, outputs: ["v\(counter)"],
                    attributes: attrs))
            return "v\(counter)"
        }
        let common: [String: Attribute] = [
            "activation": .string(benchNetworkActivation), "se_activation": .string(benchNetworkActivation),
            "se_gate": .string("sigmoid"),
        ]
        var x = add(
            "FusedConv", ["input", tensor([stem, 3, 3, 3], fanIn: 27), bias(stem)],
            [
                "kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]),
                "activation": .string(benchNetworkActivation),
            ])
        var div = 2
        macTerms.append((27 * stem, div))
        var cin = stem
        for stage in stages {
            for r in 0..<stage.repeats {
                let s = r == 0 ? stage.stride : 1
                div *= s
                let mid = cin * stage.expand
                let residual = s == 1 && cin == stage.out
                var attrs = common
                attrs["kernel_shape"] = .ints([3, 3])
                attrs["strides"] = .ints([s, s])
                attrs["pads"] = .ints([1, 1, 1, 1])
                attrs["residual"] = .int(residual ? 1 : 0)
                let seInputs: [String]
                if stage.se {
                    let red = max(1, cin / 4)
                    seInputs = [
                        tensor([red, mid, 1, 1], fanIn: mid), bias(red), tensor([mid, red, 1, 1], fanIn: red),
                        bias(mid),
                    ]
                } else {
                    seInputs = ["", "", "", ""]
                }
                if stage.fused {
                    let convOut = stage.expand == 1 ? stage.out : mid
                    var inputs = [x, tensor([convOut, cin, 3, 3], fanIn: cin * 9), bias(convOut)] + seInputs
                    inputs +=
                        stage.expand == 1 ? ["", ""] : [tensor([stage.out, mid, 1, 1], fanIn: mid), bias(stage.out)]
                    x = add("FusedMBConv", inputs, attrs)
                    macTerms.append((9 * cin * convOut + (stage.expand == 1 ? 0 : mid * stage.out), div))
                } else {
                    var inputs = [
                        x, tensor([mid, cin, 1, 1], fanIn: cin), bias(mid), tensor([mid, 1, 3, 3], fanIn: 9), bias(mid),
                    ]
                    inputs += seInputs + [tensor([stage.out, mid, 1, 1], fanIn: mid), bias(stage.out)]
                    x = add("MBConv", inputs, attrs)
                    // The expand runs at the input resolution (before the stride).
                    macTerms.append((cin * mid * s * s + 9 * mid + mid * stage.out, div))
                }
                cin = stage.out
            }
        }
        x = add(
            "FusedConv", [x, tensor([head, cin, 1, 1], fanIn: cin), bias(head)],
            ["kernel_shape": .ints([1, 1]), "activation": .string(benchNetworkActivation)])
        macTerms.append((cin * head, div))
        counter += 1
        nodes.append(Node(name: "pool", opType: "GlobalAveragePool", inputs: [x], outputs: ["pooled"]))
        nodes.append(
            Node(
                name: "flatten", opType: "Flatten", inputs: ["pooled"], outputs: ["flat"], attributes: ["axis": .int(1)]
            ))
        let fc = tensor([classes, head], fanIn: head)
        let fcb = bias(classes)
        nodes.append(
            Node(
                name: "fc", opType: "Gemm", inputs: ["flat", fc, fcb], outputs: ["logits"],
                attributes: ["transB": .int(1)]))
        let graph = Graph(
            nodes: nodes,
            inputs: [ValueInfo(name: "input", dtype: .float32, shape: [1, 3, .symbol("H"), .symbol("W")])],
            outputs: [ValueInfo(name: "logits", dtype: .float32, shape: nil)], initializers: initializers)
        let heads = head * classes
        return (graph, { size in macTerms.reduce(heads) { $0 + $1.0 * (size / $1.1) * (size / $1.1) } })
    }
}
